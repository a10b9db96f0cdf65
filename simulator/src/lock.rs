//! The one way the simulator takes a mutex.

use std::sync::{Mutex, MutexGuard};

/// Locks a mutex, recovering from poisoning: a panicking handler must not wedge the server.
pub fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}
