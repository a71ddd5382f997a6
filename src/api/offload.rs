//! Heavy request work (parsing a submitted schema, compatibility checks, the planning of a
//! registration) runs here rather than on the HTTP workers: there are as few workers as
//! cores, and a worker busy with a check of 100 versions holds up every cheap read queued on
//! it. The pool's threads run at a lower CPU priority, so that on a busy machine the workers
//! serving reads win the cores; and its queue is bounded, so that work beyond it is refused at
//! once (429, retry later) instead of piling up in memory and in latency.

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::mpsc::{self, Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};

use crate::registry::error::RegistryError;

type Job = Box<dyn FnOnce() + Send>;

/// How much lower the pool's priority is (a nice value: 0 is normal, 19 the lowest).
const NICENESS: i32 = 10;

pub struct Offload {
    jobs: SyncSender<Job>,
}

impl Offload {
    /// `threads` threads (at least one) sharing a queue of `queue` waiting jobs.
    pub fn new(threads: usize, queue: usize) -> Offload {
        let (jobs, receiver) = mpsc::sync_channel::<Job>(queue);
        let receiver = Arc::new(Mutex::new(receiver));
        for i in 0..threads.max(1) {
            let receiver = receiver.clone();
            std::thread::Builder::new()
                .name(format!("schemata-work-{i}"))
                .spawn(move || work(&receiver))
                .expect("start a work thread");
        }
        Offload { jobs }
    }

    /// Queues `f` now (or refuses it, when the queue is full); the future is its answer,
    /// awaited without blocking the caller's thread.
    pub fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> Result<T, RegistryError> + Send + 'static,
    ) -> impl Future<Output = Result<T, RegistryError>> + 'static {
        let (answer, answered) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move || {
            let _ = answer.send(f());
        });
        let queued = self.jobs.try_send(job);
        async move {
            match queued {
                Ok(()) => {}
                Err(TrySendError::Full(_)) => return Err(RegistryError::Overloaded),
                Err(TrySendError::Disconnected(_)) => return Err(RegistryError::Internal),
            }
            // A job that panicked dropped its sender: an internal error; the thread lives on.
            answered.await.map_err(|_| RegistryError::Internal)?
        }
    }
}

fn work(receiver: &Mutex<Receiver<Job>>) {
    lower_priority();
    loop {
        // The lock is held only while taking a job, not while running it.
        let job = match receiver.lock() {
            Ok(r) => r.recv(),
            Err(_) => return,
        };
        let Ok(job) = job else { return };
        if std::panic::catch_unwind(AssertUnwindSafe(job)).is_err() {
            tracing::error!("a request's work panicked; it was answered 500");
        }
    }
}

/// Lowers the calling thread's CPU priority. On Linux the nice value is per thread.
#[cfg(target_os = "linux")]
fn lower_priority() {
    // SAFETY: setpriority only reads its arguments; `who` 0 is the calling thread.
    let failed = unsafe { libc::setpriority(libc::PRIO_PROCESS, 0, NICENESS) } != 0;
    if failed {
        tracing::debug!("could not lower the work threads' priority");
    }
}

#[cfg(not(target_os = "linux"))]
fn lower_priority() {}

#[cfg(test)]
mod tests {
    use super::*;

    #[actix_web::test]
    async fn answers_refuses_beyond_the_queue_and_survives_a_panic() {
        let pool = Offload::new(1, 1);
        assert_eq!(pool.run(|| Ok(2 + 2)).await.unwrap(), 4);
        let boom: Result<(), _> = pool.run(|| panic!("a bug")).await;
        assert!(matches!(boom, Err(RegistryError::Internal)));
        // The thread survived: it still answers.
        assert_eq!(pool.run(|| Ok("alive")).await.unwrap(), "alive");

        // One job running (held), one waiting: a third is refused at once.
        let (release, held) = std::sync::mpsc::channel::<()>();
        let running = pool.run(move || {
            held.recv().ok();
            Ok(1)
        });
        // Taken off the queue by the thread before the next is queued.
        std::thread::sleep(std::time::Duration::from_millis(100));
        let waiting = pool.run(|| Ok(2));
        assert!(matches!(pool.run(|| Ok(3)).await, Err(RegistryError::Overloaded)));
        release.send(()).unwrap();
        assert_eq!(running.await.unwrap(), 1);
        assert_eq!(waiting.await.unwrap(), 2);
    }
}
