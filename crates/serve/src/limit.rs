//! Admission control, in two separately bounded stages:
//!
//! - **uploads**: at most `max_uploads_in_flight` request bodies are received at once
//!   ([`UploadSlot`]), holding at most `max_upload_bytes_in_flight` bytes together
//!   ([`UploadBytes`], counted as they arrive and released once the recording is decoded);
//! - **compute**: a fully arrived upload takes a [`Ticket`] (at most
//!   `max_concurrency + queue` are held) and waits for one of `max_concurrency` slots.
//!
//! A slow client therefore holds an upload slot and the few bytes it sent, never a compute
//! slot or a place in the queue, and everything beyond the limits is refused at once (503).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Counts uploads, their bytes and admitted requests, and hands out slots to run.
#[derive(Debug)]
pub(crate) struct Admission {
    running: Arc<Semaphore>,
    max_concurrency: usize,
    admitted: AtomicUsize,
    max_admitted: usize,
    uploads: AtomicUsize,
    max_uploads: usize,
    upload_bytes: AtomicUsize,
    max_upload_bytes: usize,
}

/// A request's place in the compute stage (running or waiting); released when dropped.
#[derive(Debug)]
pub(crate) struct Ticket {
    admission: Arc<Admission>,
}

/// A body being received; released when dropped (once the body has arrived or failed).
#[derive(Debug)]
pub(crate) struct UploadSlot {
    admission: Arc<Admission>,
}

/// The bytes of one upload counted against `max_upload_bytes_in_flight`; shared by the
/// body reader and the upload it produces, and given back when the last holder drops it.
#[derive(Debug)]
pub(crate) struct UploadBytes {
    admission: Arc<Admission>,
    held: AtomicUsize,
}

/// Limits of an [`Admission`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    pub(crate) max_concurrency: usize,
    pub(crate) queue: usize,
    pub(crate) max_uploads: usize,
    pub(crate) max_upload_bytes: usize,
}

/// Adds one to `counter` unless it has reached `max`.
fn try_increment(counter: &AtomicUsize, max: usize, by: usize) -> bool {
    counter
        .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
            n.checked_add(by).filter(|&m| m <= max)
        })
        .is_ok()
}

impl Admission {
    pub(crate) fn new(limits: Limits) -> Arc<Self> {
        Arc::new(Admission {
            running: Arc::new(Semaphore::new(limits.max_concurrency)),
            max_concurrency: limits.max_concurrency,
            admitted: AtomicUsize::new(0),
            max_admitted: limits.max_concurrency.saturating_add(limits.queue),
            uploads: AtomicUsize::new(0),
            max_uploads: limits.max_uploads,
            upload_bytes: AtomicUsize::new(0),
            max_upload_bytes: limits.max_upload_bytes,
        })
    }

    /// A ticket if fewer than `max_concurrency + queue` requests hold one, else `None`.
    pub(crate) fn try_admit(self: &Arc<Self>) -> Option<Ticket> {
        try_increment(&self.admitted, self.max_admitted, 1).then(|| Ticket {
            admission: Arc::clone(self),
        })
    }

    /// Whether [`Admission::try_admit`] would fail now (a cheap early refusal).
    pub(crate) fn is_full(&self) -> bool {
        self.admitted.load(Ordering::Acquire) >= self.max_admitted
    }

    /// An upload slot if fewer than `max_uploads_in_flight` bodies are being received.
    pub(crate) fn try_start_upload(self: &Arc<Self>) -> Option<UploadSlot> {
        try_increment(&self.uploads, self.max_uploads, 1).then(|| UploadSlot {
            admission: Arc::clone(self),
        })
    }

    /// An empty byte count for one upload.
    pub(crate) fn upload_bytes(self: &Arc<Self>) -> Arc<UploadBytes> {
        Arc::new(UploadBytes {
            admission: Arc::clone(self),
            held: AtomicUsize::new(0),
        })
    }

    /// Requests admitted to the compute stage now (running or waiting).
    pub(crate) fn admitted(&self) -> usize {
        self.admitted.load(Ordering::Acquire)
    }

    /// Requests running now.
    pub(crate) fn running(&self) -> usize {
        self.max_concurrency
            .saturating_sub(self.running.available_permits())
    }

    /// Bodies being received now.
    pub(crate) fn uploads(&self) -> usize {
        self.uploads.load(Ordering::Acquire)
    }

    /// Bytes of uploads held now (arriving, waiting or being decoded).
    pub(crate) fn bytes_in_flight(&self) -> usize {
        self.upload_bytes.load(Ordering::Acquire)
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

impl Drop for UploadSlot {
    fn drop(&mut self) {
        self.admission.uploads.fetch_sub(1, Ordering::AcqRel);
    }
}

impl UploadBytes {
    /// Counts `n` more bytes for this upload, unless that would pass
    /// `max_upload_bytes_in_flight` (then nothing is counted and `false` returned).
    pub(crate) fn try_grow(&self, n: usize) -> bool {
        let ok = try_increment(
            &self.admission.upload_bytes,
            self.admission.max_upload_bytes,
            n,
        );
        if ok {
            self.held.fetch_add(n, Ordering::AcqRel);
        }
        ok
    }

    /// Gives back `n` of the bytes counted (at most all of them).
    pub(crate) fn release(&self, n: usize) {
        let n = self
            .held
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |held| {
                Some(held - n.min(held))
            })
            .map_or(0, |held| n.min(held));
        self.admission.upload_bytes.fetch_sub(n, Ordering::AcqRel);
    }
}

impl Drop for UploadBytes {
    fn drop(&mut self) {
        let held = *self.held.get_mut();
        self.admission
            .upload_bytes
            .fetch_sub(held, Ordering::AcqRel);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn admission(max_concurrency: usize, queue: usize) -> Arc<Admission> {
        Admission::new(Limits {
            max_concurrency,
            queue,
            max_uploads: 2,
            max_upload_bytes: 100,
        })
    }

    #[tokio::test]
    async fn admits_concurrency_plus_queue_then_refuses_until_a_ticket_is_dropped() {
        let admission = admission(2, 1);
        let tickets: Vec<Ticket> = (0..3)
            .map(|_| admission.try_admit().expect("room"))
            .collect();
        assert!(admission.try_admit().is_none());
        assert!(admission.is_full());
        assert_eq!(admission.admitted(), 3);
        let a = tickets[0].run_slot().await;
        let _b = tickets[1].run_slot().await;
        assert_eq!(admission.running(), 2);
        drop(a);
        assert_eq!(admission.running(), 1);
        drop(tickets);
        assert_eq!(admission.admitted(), 0);
        assert!(admission.try_admit().is_some());
    }

    #[test]
    fn uploads_are_bounded_by_count_and_bytes_apart_from_compute() {
        let admission = admission(1, 0);
        let _compute = admission.try_admit().expect("compute");
        let a = admission.try_start_upload().expect("first upload");
        let _b = admission.try_start_upload().expect("second upload");
        assert!(admission.try_start_upload().is_none());
        assert_eq!(admission.uploads(), 2);
        drop(a);
        assert!(admission.try_start_upload().is_some());

        let one = admission.upload_bytes();
        let two = admission.upload_bytes();
        assert!(one.try_grow(60));
        assert!(!two.try_grow(41), "60 + 41 > 100");
        assert!(two.try_grow(40));
        assert_eq!(admission.bytes_in_flight(), 100);
        drop(one);
        assert_eq!(admission.bytes_in_flight(), 40);
        two.release(15);
        assert_eq!(admission.bytes_in_flight(), 25);
        assert!(two.try_grow(15));
        let shared = Arc::clone(&two);
        drop(two);
        assert_eq!(admission.bytes_in_flight(), 40, "still held by a clone");
        drop(shared);
        assert_eq!(admission.bytes_in_flight(), 0);
    }
}
