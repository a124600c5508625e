//! A lock helper every part of the daemon may use: it imports nothing
//! of the crate, so it sits below every layer.

/// [`std::sync::Mutex::lock`] that takes the data as a panicked holder
/// left it. The crate's locks guard maps, queues and counters that are
/// whole between statements, so one request's panic must not turn every
/// later request into a panic too.
pub trait LockAnyway<T> {
    fn lock_anyway(&self) -> std::sync::MutexGuard<'_, T>;
}

impl<T> LockAnyway<T> for std::sync::Mutex<T> {
    fn lock_anyway(&self) -> std::sync::MutexGuard<'_, T> {
        self.lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}
