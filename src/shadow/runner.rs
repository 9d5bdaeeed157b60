//! Where shadows run. With `[shadow] priority = "normal"` (the default) shadows run on the
//! gateway's workers beside the primaries (each steps aside once before its work). With `"low"`
//! every shadow task runs on a thread of its own at the lowest CPU priority (nice 19,
//! `setpriority(2)`), so the kernel gives the CPU to the gateway's workers whenever a channel's
//! message is ready: a shadow uses what the primaries leave, and under a load that keeps every
//! core busy shadows are dropped rather than the primaries slowed.
//!
//! The shadow thread only spends CPU. Every poll of a shadow task runs inside the primary
//! runtime's context ([`Handle::enter`]), so whatever the task creates — a connection it opens
//! and gives back to a pool, a link's receive loop or poller started on first use, a timer — is
//! registered with, or spawned on, the primary runtime's drivers and workers. A connection a
//! shadow opened is then served to a primary by the primary's own reactor, never by a thread
//! that may be starved. The shadow thread is started on first use and stops when its
//! [`ShadowRunner`] is dropped (tasks still there are dropped with their permits).

use std::future::Future;
use std::sync::OnceLock;
use tokio::runtime::Handle;
use tokio::sync::oneshot;

/// The nice value of the shadow thread (the lowest priority; `setpriority(2)`).
pub const SHADOW_NICE: i32 = 19;

/// Runs shadow tasks: on a low-priority thread of their own, or on the caller's runtime.
pub struct ShadowRunner {
    low: bool,
    thread: OnceLock<Option<LowThread>>,
}

/// The shadow thread's runtime; dropping `_stop` ends the thread.
struct LowThread {
    handle: Handle,
    _stop: oneshot::Sender<()>,
}

impl ShadowRunner {
    /// A runner; `low`: on a thread of its own at nice [`SHADOW_NICE`], else on the workers.
    pub fn new(low: bool) -> ShadowRunner {
        ShadowRunner { low, thread: OnceLock::new() }
    }

    /// Spawns `task`. Must be called from within the primary runtime (the gateway's), whose
    /// context every poll of the task enters. Falls back to the primary runtime if the shadow
    /// thread could not be started (said once, in the log).
    pub fn spawn<F: Future<Output = ()> + Send + 'static>(&self, task: F) {
        let primary = Handle::current();
        match self.low.then(|| self.thread.get_or_init(start)).and_then(Option::as_ref) {
            Some(t) => {
                let mut task = Box::pin(task);
                t.handle.spawn(std::future::poll_fn(move |cx| {
                    let _primary = primary.enter();
                    task.as_mut().poll(cx)
                }));
            }
            None => {
                primary.spawn(task);
            }
        }
    }

    /// True when shadows run on a low-priority thread of their own (started or not yet).
    pub fn is_low(&self) -> bool {
        self.low
    }
}

/// Starts the shadow thread: a current-thread runtime driven until the runner is dropped.
fn start() -> Option<LowThread> {
    let (stop, stopped) = oneshot::channel::<()>();
    let (ready, handle) = std::sync::mpsc::channel();
    let started = std::thread::Builder::new().name("ficus-shadow".into()).spawn(move || {
        lower_priority();
        let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
            Ok(r) => r,
            Err(e) => {
                tracing::error!(error = %e, "shadow thread: no runtime; shadows run on the workers");
                return;
            }
        };
        let _ = ready.send(runtime.handle().clone());
        let _ = runtime.block_on(stopped);
    });
    if let Err(e) = started {
        tracing::error!(error = %e, "shadow thread not started; shadows run on the workers");
        return None;
    }
    let handle = handle.recv().ok()?;
    Some(LowThread { handle, _stop: stop })
}

/// Sets the calling thread's nice value to [`SHADOW_NICE`] (Linux: per thread). A failure is
/// logged and leaves the thread at its priority: shadows still run off the workers.
fn lower_priority() {
    #[cfg(target_os = "linux")]
    if let Err(e) = rustix::process::setpriority_process(Some(rustix::thread::gettid()), SHADOW_NICE) {
        tracing::warn!(error = %e, "shadow thread: priority not lowered");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    /// The nice value of the thread running this code, from /proc (Linux).
    #[cfg(target_os = "linux")]
    fn own_nice() -> i32 {
        let tid = rustix::thread::gettid().as_raw_nonzero().get();
        let stat = std::fs::read_to_string(format!("/proc/self/task/{tid}/stat")).unwrap();
        // Fields after the command's closing parenthesis; nice is field 19 of stat(5).
        let rest = &stat[stat.rfind(')').unwrap() + 2..];
        rest.split(' ').nth(16).unwrap().parse().unwrap()
    }

    #[tokio::test]
    async fn a_low_runner_runs_tasks_on_its_own_thread_in_the_primary_runtimes_context() {
        let runner = ShadowRunner::new(true);
        let primary = Handle::current().id();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (tx, rx) = oneshot::channel();
        runner.spawn(async move {
            let name = std::thread::current().name().map(String::from);
            // Opened by the shadow task: registered with the primary runtime's reactor.
            let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
            tokio::time::sleep(Duration::from_millis(1)).await;
            let spawned_on = tokio::spawn(async { Handle::current().id() }).await.unwrap();
            #[cfg(target_os = "linux")]
            let nice = own_nice();
            #[cfg(not(target_os = "linux"))]
            let nice = SHADOW_NICE;
            let _ = tx.send((name, Handle::current().id(), spawned_on, nice, stream));
        });
        let (name, current, spawned_on, nice, stream) =
            tokio::time::timeout(Duration::from_secs(5), rx).await.expect("the shadow task ran").unwrap();
        assert_eq!(name.as_deref(), Some("ficus-shadow"));
        assert_eq!(current, primary, "a shadow task's context is the primary runtime's");
        assert_eq!(spawned_on, primary, "a task a shadow spawns runs on the primary runtime");
        assert_eq!(nice, SHADOW_NICE);
        // The stream the shadow opened is served here, by the primary's reactor.
        let (mut accepted, _) = listener.accept().await.unwrap();
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        accepted.write_all(b"x").await.unwrap();
        let mut stream = stream;
        let mut b = [0u8; 1];
        tokio::time::timeout(Duration::from_secs(5), stream.read_exact(&mut b)).await.unwrap().unwrap();
        assert_eq!(&b, b"x");
    }

    #[tokio::test]
    async fn a_normal_runner_runs_tasks_on_the_callers_runtime() {
        let runner = ShadowRunner::new(false);
        let (tx, rx) = oneshot::channel();
        runner.spawn(async move {
            let _ = tx.send(std::thread::current().name().map(String::from));
        });
        let name = rx.await.unwrap();
        assert_ne!(name.as_deref(), Some("ficus-shadow"));
        assert!(runner.thread.get().is_none(), "no shadow thread is started for a normal runner");
    }

    #[tokio::test]
    async fn dropping_the_runner_ends_its_thread_and_drops_its_tasks() {
        let runner = ShadowRunner::new(true);
        let (held, released) = oneshot::channel::<()>();
        let (tx, rx) = oneshot::channel();
        runner.spawn(async move {
            let _held = held;
            let _ = tx.send(());
            std::future::pending::<()>().await;
        });
        rx.await.unwrap();
        drop(runner);
        // The pending task was dropped with the thread's runtime: its sender is gone.
        let e = tokio::time::timeout(Duration::from_secs(5), released).await.expect("the task was dropped");
        assert!(e.is_err());
    }
}
