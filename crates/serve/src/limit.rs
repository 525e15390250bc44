//! Admission control: at most `max_concurrency` recordings are decoded and classified at
//! once, at most `queue` more requests wait, and everything beyond is refused at once
//! (503) — before its body is read, so a flood of uploads cannot fill memory.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Counts admitted requests and hands out slots to run.
#[derive(Debug)]
pub(crate) struct Admission {
    running: Arc<Semaphore>,
    admitted: AtomicUsize,
    max_admitted: usize,
}

/// A request's place in the service (running or waiting); released when dropped.
#[derive(Debug)]
pub(crate) struct Ticket {
    admission: Arc<Admission>,
}

impl Admission {
    pub(crate) fn new(max_concurrency: usize, queue: usize) -> Arc<Self> {
        Arc::new(Admission {
            running: Arc::new(Semaphore::new(max_concurrency)),
            admitted: AtomicUsize::new(0),
            max_admitted: max_concurrency.saturating_add(queue),
        })
    }

    /// A ticket if fewer than `max_concurrency + queue` requests hold one, else `None`.
    pub(crate) fn try_admit(self: &Arc<Self>) -> Option<Ticket> {
        let admitted = self
            .admitted
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < self.max_admitted).then_some(n + 1)
            });
        admitted.ok().map(|_| Ticket {
            admission: Arc::clone(self),
        })
    }

    /// Requests admitted now (running or waiting).
    pub(crate) fn admitted(&self) -> usize {
        self.admitted.load(Ordering::Acquire)
    }

    /// Requests running now.
    pub(crate) fn running(&self, max_concurrency: usize) -> usize {
        max_concurrency.saturating_sub(self.running.available_permits())
    }
}

impl Ticket {
    /// Waits for a slot to run in. The permit must be moved into the blocking task, so that
    /// the slot stays taken until the work is done even if the client goes away.
    pub(crate) async fn run_slot(&self) -> OwnedSemaphorePermit {
        Arc::clone(&self.admission.running)
            .acquire_owned()
            .await
            .expect("the admission semaphore is never closed")
    }
}

impl Drop for Ticket {
    fn drop(&mut self) {
        self.admission.admitted.fetch_sub(1, Ordering::AcqRel);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn admits_concurrency_plus_queue_then_refuses_until_a_ticket_is_dropped() {
        let admission = Admission::new(2, 1);
        let tickets: Vec<Ticket> = (0..3)
            .map(|_| admission.try_admit().expect("room"))
            .collect();
        assert!(admission.try_admit().is_none());
        assert_eq!(admission.admitted(), 3);
        let a = tickets[0].run_slot().await;
        let _b = tickets[1].run_slot().await;
        assert_eq!(admission.running(2), 2);
        drop(a);
        assert_eq!(admission.running(2), 1);
        drop(tickets);
        assert_eq!(admission.admitted(), 0);
        assert!(admission.try_admit().is_some());
    }
}
