//! A wakeup between tasks of one shard: one side notifies, one task waits. Cheaper than a
//! channel when the message is only "look again".

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

/// A single-waiter, single-thread notification. Notifications before the wait are not lost.
#[derive(Debug, Default)]
pub struct Wakeup {
    notified: Cell<bool>,
    waker: RefCell<Option<Waker>>,
}

impl Wakeup {
    /// Wakes the waiting task (or the next wait returns at once).
    pub fn notify(&self) {
        self.notified.set(true);
        if let Some(waker) = self.waker.borrow_mut().take() {
            waker.wake();
        }
    }

    /// Resolves once notified since the last wait returned.
    pub fn wait(&self) -> Wait<'_> {
        Wait { wakeup: self }
    }
}

/// The future of [`Wakeup::wait`].
#[derive(Debug)]
pub struct Wait<'a> {
    wakeup: &'a Wakeup,
}

impl Future for Wait<'_> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.wakeup.notified.replace(false) {
            return Poll::Ready(());
        }
        *self.wakeup.waker.borrow_mut() = Some(cx.waker().clone());
        Poll::Pending
    }
}

/// How often an idle executor wakes on its own.
const POLL_AT_LEAST_EVERY: std::time::Duration = std::time::Duration::from_millis(20);

/// Keeps the current glommio executor polling at least every 20 ms, even with nothing to do,
/// and shows the main thread it does: executor `index` bumps its tick in `board` each time
/// (its thread was recorded before the executor was built, launch.rs). glommio picks up events from other threads (channel connections,
/// messages racing with the executor falling asleep) when it polls; an executor whose tick
/// stops is asleep past its timers, and the main thread wakes it (nudge.rs).
pub fn keep_polling(board: std::sync::Arc<tf_seam::Board>, index: usize) {
    glommio::spawn_local(async move {
        loop {
            glommio::timer::sleep(POLL_AT_LEAST_EVERY).await;
            board.executor_tick(index);
        }
    })
    .detach();
}
