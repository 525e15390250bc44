//! Learning-rate schedules: a pure function of the position in training
//! (plus, for `plateau`, a small state that is checkpointed).

use serde::{Deserialize, Serialize};

use lungsound_infer::config::{ScheduleConfig, ScheduleKind};

/// State of the plateau schedule (the others have none).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlateauState {
    /// Best validation loss so far (`None` before the first epoch).
    pub best_loss: Option<f64>,
    /// Epochs since it improved.
    pub bad_epochs: usize,
    /// Current multiplier of the base learning rate.
    pub scale: f64,
}

impl Default for PlateauState {
    fn default() -> Self {
        Self {
            best_loss: None,
            bad_epochs: 0,
            scale: 1.0,
        }
    }
}

impl PlateauState {
    /// Records an epoch's validation loss (PyTorch's `ReduceLROnPlateau`,
    /// mode min, threshold 0, cooldown 0).
    pub fn observe(&mut self, val_loss: f64, config: &ScheduleConfig) {
        if self.best_loss.is_none_or(|best| val_loss < best) {
            self.best_loss = Some(val_loss);
            self.bad_epochs = 0;
        } else {
            self.bad_epochs += 1;
            if self.bad_epochs > config.plateau_patience {
                self.scale *= config.plateau_factor;
                self.bad_epochs = 0;
            }
        }
    }
}

/// The learning rate for a schedule, base rate and training length.
#[derive(Debug, Clone)]
pub struct LrSchedule {
    config: ScheduleConfig,
    base_lr: f64,
    epochs: usize,
    steps_per_epoch: usize,
}

impl LrSchedule {
    /// A schedule over `epochs` epochs of `steps_per_epoch` steps.
    pub fn new(
        config: &ScheduleConfig,
        base_lr: f64,
        epochs: usize,
        steps_per_epoch: usize,
    ) -> Self {
        Self {
            config: config.clone(),
            base_lr,
            epochs,
            steps_per_epoch: steps_per_epoch.max(1),
        }
    }

    /// Learning rate for step `step` (0-based) of epoch `epoch` (0-based).
    pub fn lr(&self, epoch: usize, step: usize, plateau: &PlateauState) -> f64 {
        let spe = self.steps_per_epoch as f64;
        let global = epoch as f64 * spe + step as f64;
        let warmup = self.config.warmup_epochs * spe;
        if global < warmup {
            return self.base_lr * (global + 1.0) / warmup;
        }
        match self.config.kind {
            ScheduleKind::Constant => self.base_lr,
            ScheduleKind::Cosine => {
                let total = self.epochs as f64 * spe;
                let progress = if total > warmup {
                    ((global - warmup) / (total - warmup)).clamp(0.0, 1.0)
                } else {
                    1.0
                };
                let min = self.config.min_lr.min(self.base_lr);
                min + (self.base_lr - min) * 0.5 * (1.0 + (std::f64::consts::PI * progress).cos())
            }
            ScheduleKind::Step => {
                let decays = (epoch / self.config.step_size) as i32;
                self.base_lr * self.config.gamma.powi(decays)
            }
            ScheduleKind::Plateau => self.base_lr * plateau.scale,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(kind: ScheduleKind, warmup_epochs: f64) -> ScheduleConfig {
        ScheduleConfig {
            kind,
            warmup_epochs,
            ..ScheduleConfig::default()
        }
    }

    #[test]
    fn warmup_then_cosine_to_min() {
        let s = LrSchedule::new(&config(ScheduleKind::Cosine, 1.0), 1.0, 11, 10);
        let p = PlateauState::default();
        assert!((s.lr(0, 0, &p) - 0.1).abs() < 1e-12);
        assert!((s.lr(0, 9, &p) - 1.0).abs() < 1e-12);
        assert!((s.lr(1, 0, &p) - 1.0).abs() < 1e-12);
        assert!((s.lr(6, 0, &p) - 0.5).abs() < 1e-12);
        assert!(s.lr(10, 9, &p) < 0.001);
    }

    #[test]
    fn step_and_plateau() {
        let c = ScheduleConfig {
            step_size: 2,
            gamma: 0.5,
            ..config(ScheduleKind::Step, 0.0)
        };
        let s = LrSchedule::new(&c, 1.0, 10, 5);
        let p = PlateauState::default();
        assert_eq!(
            [s.lr(1, 4, &p), s.lr(2, 0, &p), s.lr(5, 0, &p)],
            [1.0, 0.5, 0.25]
        );
        let c = config(ScheduleKind::Plateau, 0.0);
        let s = LrSchedule::new(&c, 1.0, 10, 5);
        let mut p = PlateauState::default();
        for loss in [1.0, 0.9, 0.95, 0.95, 0.95] {
            p.observe(loss, &c);
        }
        assert_eq!(s.lr(5, 0, &p), 1.0);
        p.observe(0.95, &c);
        assert_eq!(s.lr(6, 0, &p), 0.5);
    }
}
