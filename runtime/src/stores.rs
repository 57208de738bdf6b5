//! The key-value stores: one pool of `BPF_STORE_NUM_VALUES` entries shared by the
//! global store and every VM's local store (spec §3 "Stores").

use core::cell::{Cell, RefCell};

/// Pool size, from the `BPF_STORE_NUM_VALUES` environment variable at build time (default 16).
pub const STORE_NUM_VALUES: usize = match option_env!("BPF_STORE_NUM_VALUES") {
    Some(s) => parse_count(s),
    None => 16,
};

const fn parse_count(s: &str) -> usize {
    let b = s.as_bytes();
    let mut i = 0;
    let mut v = 0usize;
    assert!(!b.is_empty(), "BPF_STORE_NUM_VALUES is empty");
    while i < b.len() {
        assert!(b[i].is_ascii_digit(), "BPF_STORE_NUM_VALUES must be a decimal number");
        v = v * 10 + (b[i] - b'0') as usize;
        i += 1;
    }
    v
}

/// Who an entry of the pool belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Owner {
    Global,
    /// The local store of one VM.
    Local(u32),
}

#[derive(Clone, Copy, Debug)]
struct Entry {
    owner: Option<Owner>,
    key: u32,
    value: u32,
}

const FREE: Entry = Entry { owner: None, key: 0, value: 0 };

/// Called around every pool access, for firmware that runs VMs from interrupts or on two
/// cores. C functions, so that firmware hands its critical section to the C API as it is.
#[derive(Clone, Copy, Debug)]
pub struct LockHook {
    pub lock: extern "C" fn(),
    pub unlock: extern "C" fn(),
}

/// The pool and its lock hook. Firmware keeps one; tests make one each.
pub struct StoreContext {
    pool: RefCell<[Entry; STORE_NUM_VALUES]>,
    next_local: Cell<u32>,
    hook: Option<LockHook>,
}

impl Default for StoreContext {
    fn default() -> Self {
        Self::new()
    }
}

impl StoreContext {
    pub const fn new() -> Self {
        StoreContext { pool: RefCell::new([FREE; STORE_NUM_VALUES]), next_local: Cell::new(0), hook: None }
    }

    pub const fn with_lock(hook: LockHook) -> Self {
        StoreContext { pool: RefCell::new([FREE; STORE_NUM_VALUES]), next_local: Cell::new(0), hook: Some(hook) }
    }

    fn with<R>(&self, f: impl FnOnce(&mut [Entry; STORE_NUM_VALUES]) -> R) -> R {
        self.under_lock(|| f(&mut self.pool.borrow_mut()))
    }

    /// Runs `f` under the lock hook, for the host's own bookkeeping about this pool.
    pub fn under_lock<R>(&self, f: impl FnOnce() -> R) -> R {
        if let Some(h) = self.hook {
            (h.lock)();
        }
        let r = f();
        if let Some(h) = self.hook {
            (h.unlock)();
        }
        r
    }

    /// A fresh owner for a VM's local store (taken under the lock hook, like every pool access).
    pub fn new_local(&self) -> Owner {
        self.with(|_| {
            let id = self.next_local.get();
            self.next_local.set(id.wrapping_add(1));
            Owner::Local(id)
        })
    }

    /// Inserts or overwrites; false only when a new entry is needed and the pool is full.
    pub fn update(&self, owner: Owner, key: u32, value: u32) -> bool {
        self.with(|pool| {
            if let Some(e) = pool.iter_mut().find(|e| e.owner == Some(owner) && e.key == key) {
                e.value = value;
                return true;
            }
            match pool.iter_mut().find(|e| e.owner.is_none()) {
                Some(e) => {
                    *e = Entry { owner: Some(owner), key, value };
                    true
                }
                None => false,
            }
        })
    }

    /// The value of `key`; a missing key is added with 0. `None` when the pool is full.
    pub fn fetch(&self, owner: Owner, key: u32) -> Option<u32> {
        let found = self.with(|pool| pool.iter().find(|e| e.owner == Some(owner) && e.key == key).map(|e| e.value));
        match found {
            Some(v) => Some(v),
            None => self.update(owner, key, 0).then_some(0),
        }
    }

    /// Returns every entry of `owner` to the pool (a VM's locals at unload).
    pub fn release(&self, owner: Owner) {
        self.with(|pool| pool.iter_mut().filter(|e| e.owner == Some(owner)).for_each(|e| *e = FREE));
    }

    /// Entries of `owner`, keys ascending.
    pub fn entries(&self, owner: Owner) -> heapless::Vec<(u32, u32), STORE_NUM_VALUES> {
        let mut v: heapless::Vec<(u32, u32), STORE_NUM_VALUES> =
            self.with(|pool| pool.iter().filter(|e| e.owner == Some(owner)).map(|e| (e.key, e.value)).collect());
        v.sort_unstable();
        v
    }

    /// Free entries left in the pool.
    pub fn free(&self) -> usize {
        self.with(|pool| pool.iter().filter(|e| e.owner.is_none()).count())
    }
}

/// A view of one store of the pool: the global store or a VM's local store.
#[derive(Clone, Copy)]
pub struct Store<'s> {
    context: &'s StoreContext,
    owner: Owner,
}

/// `store.entry(key).set(v)` / `.get()`: the Sming entry proxy (Rust cannot overload `=`).
pub struct StoreEntry<'s> {
    store: Store<'s>,
    key: u32,
}

impl<'s> Store<'s> {
    pub fn new(context: &'s StoreContext, owner: Owner) -> Self {
        Store { context, owner }
    }
    pub fn update(&self, key: u32, value: u32) -> bool {
        self.context.update(self.owner, key, value)
    }
    /// Sming's `fetch(key, value&)`: true on success, false when the pool is full.
    pub fn fetch(&self, key: u32, value: &mut u32) -> bool {
        self.context.fetch(self.owner, key).map(|v| *value = v).is_some()
    }
    /// The value, 0 when missing (the key is added) or when the pool is full.
    pub fn get(&self, key: u32) -> u32 {
        self.context.fetch(self.owner, key).unwrap_or(0)
    }
    pub fn entry(&self, key: u32) -> StoreEntry<'s> {
        StoreEntry { store: *self, key }
    }
    pub fn entries(&self) -> heapless::Vec<(u32, u32), STORE_NUM_VALUES> {
        self.context.entries(self.owner)
    }
}

impl StoreEntry<'_> {
    pub fn set(&self, value: u32) -> bool {
        self.store.update(self.key, value)
    }
    pub fn get(&self) -> u32 {
        self.store.get(self.key)
    }
}

/// The shared global store (Sming's `GlobalStore`).
pub type GlobalStore<'s> = Store<'s>;
/// A VM's own store (Sming's `LocalStore`).
pub type LocalStore<'s> = Store<'s>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_pool_for_all_stores() {
        let ctx = StoreContext::new();
        let global = Store::new(&ctx, Owner::Global);
        let local = Store::new(&ctx, ctx.new_local());
        assert!(global.update(1, 10));
        assert!(local.update(1, 20), "same key, other store");
        assert_eq!((global.get(1), local.get(1)), (10, 20));
        let mut v = 99;
        assert!(local.fetch(7, &mut v));
        assert_eq!(v, 0, "fetch of a missing key inserts 0");
        for k in 100..100 + STORE_NUM_VALUES as u32 {
            global.entry(k).set(k);
        }
        assert_eq!(ctx.free(), 0);
        assert!(!global.update(5000, 1), "pool full");
        assert!(!local.fetch(5001, &mut v));
        assert!(global.update(1, 11), "overwriting needs no new entry");
        ctx.release(Owner::Local(0));
        assert_eq!(ctx.free(), 2, "local entries return to the pool");
    }
}
