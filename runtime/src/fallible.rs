//! Allocation that reports running out instead of aborting: every allocation of a load goes through here.
//!
//! On a microcontroller the heap is a few kilobytes of the caller's arena; a container
//! too big for it must fail its load with NO_MEMORY, never reach `handle_alloc_error`.

use alloc::boxed::Box;
use alloc::vec::Vec;

/// An allocation of `bytes` failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OutOfMemory {
    pub bytes: usize,
}

fn short<T>(n: usize) -> OutOfMemory {
    OutOfMemory { bytes: n.saturating_mul(core::mem::size_of::<T>()) }
}

/// An empty vector with room for `n` elements.
pub fn with_capacity<T>(n: usize) -> Result<Vec<T>, OutOfMemory> {
    let mut v = Vec::new();
    v.try_reserve_exact(n).map_err(|_| short::<T>(n))?;
    Ok(v)
}

/// `n` copies of `value` (`vec![value; n]`).
pub fn filled<T: Clone>(value: T, n: usize) -> Result<Vec<T>, OutOfMemory> {
    let mut v = with_capacity(n)?;
    v.resize(n, value);
    Ok(v)
}

/// Appends `x`, growing the vector (amortized, as `push` does) if it must.
pub fn push<T>(v: &mut Vec<T>, x: T) -> Result<(), OutOfMemory> {
    v.try_reserve(1).map_err(|_| short::<T>(v.len() + 1))?;
    v.push(x);
    Ok(())
}

/// The items of `iter` (at most its upper size hint is reserved up front).
pub fn collect<T>(iter: impl IntoIterator<Item = T>) -> Result<Vec<T>, OutOfMemory> {
    let iter = iter.into_iter();
    let mut v = with_capacity(iter.size_hint().0)?;
    for x in iter {
        push(&mut v, x)?;
    }
    Ok(v)
}

/// `Box::new(x)`, or the error.
pub fn boxed<T>(x: T) -> Result<Box<T>, OutOfMemory> {
    let mut v = with_capacity(1)?;
    v.push(x);
    let one: Box<[T]> = v.into_boxed_slice();
    // SAFETY: `one` holds exactly one `T` (capacity 1, length 1, so `into_boxed_slice` kept the
    // allocation); `[T]` of length 1 and `T` have the same size and alignment, so the allocation is
    // the one `Box<T>` would own and frees with the same layout.
    Ok(unsafe { Box::from_raw(Box::into_raw(one).cast::<T>()) })
}

/// The pieces joined into one string, or the memory that would have taken.
pub fn concat(pieces: &[&str]) -> Result<alloc::string::String, OutOfMemory> {
    let len = pieces.iter().map(|p| p.len()).fold(0usize, usize::saturating_add);
    let mut text = alloc::string::String::new();
    text.try_reserve_exact(len).map_err(|_| OutOfMemory { bytes: len })?;
    pieces.iter().for_each(|p| text.push_str(p));
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn huge_requests_fail_instead_of_aborting() {
        assert_eq!(with_capacity::<u64>(usize::MAX / 4).unwrap_err().bytes, usize::MAX);
        assert!(filled(0u8, isize::MAX as usize).is_err());
    }

    #[test]
    fn concat_joins_the_pieces() {
        assert_eq!(concat(&["a", " and ", "ff"]).unwrap(), "a and ff");
        assert_eq!(concat(&[]).unwrap(), "");
    }

    #[test]
    fn boxed_holds_the_value() {
        assert_eq!(*boxed([7u32; 3]).unwrap(), [7, 7, 7]);
        assert_eq!(*boxed(()).unwrap(), ());
    }
}
