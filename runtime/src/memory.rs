//! The virtual address map (spec §2) and the one access check every engine and helper uses.
//!
//! Bits 28-31 of a 32-bit address pick a region slot, so a lookup is a shift and
//! an index, never a list walk. The table is `#[repr(C)]` because native code
//! reads the same table.

use core::fmt;
use core::marker::PhantomData;

use crate::insn::Size;

/// Bits below the slot number: each region has a 256 MiB window.
pub const SLOT_SHIFT: u32 = 28;
pub const SLOT_SIZE: u64 = 1 << SLOT_SHIFT;
/// Most bytes a region may have: one less than its window, so that every offset
/// and the length itself fit the 28 bits below the slot number.
pub const MAX_REGION_LEN: u64 = SLOT_SIZE - 1;
/// Number of region slots (slot 0 is never mapped).
pub const SLOTS: usize = 16;

/// The fixed slots of the address map.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Slot {
    Rodata = 1,
    Data = 2,
    Stack = 3,
    Context = 4,
}

/// First slot for regions the host adds; they take 5..=15 in the order added.
pub const FIRST_EXTRA_SLOT: usize = 5;

/// Start address of a slot.
pub const fn slot_start(slot: usize) -> u64 {
    (slot as u64) << SLOT_SHIFT
}

pub const RODATA_START: u64 = slot_start(Slot::Rodata as usize);
pub const DATA_START: u64 = slot_start(Slot::Data as usize);
pub const STACK_START: u64 = slot_start(Slot::Stack as usize);
pub const CONTEXT_START: u64 = slot_start(Slot::Context as usize);

/// Whether an access reads, writes, or both (atomics).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    Read,
    Write,
    ReadWrite,
}

/// One mapped region: host base, length, and whether containers may write it.
#[derive(Clone, Copy, Debug)]
#[repr(C)]
pub struct Region {
    pub base: *mut u8,
    /// 0 means the slot is not mapped.
    pub len: u32,
    pub writable: u32,
}

impl Region {
    const EMPTY: Region = Region { base: core::ptr::null_mut(), len: 0, writable: 0 };
}

/// Why a region could not be mapped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MapError {
    /// The region is larger than its 256 MiB window.
    TooLarge,
    /// All extra slots (5..=15) are taken.
    NoFreeSlot,
    /// The VM could not allocate its entry for the region.
    NoMemory,
}

/// The regions a container sees during one run. Borrows every region for `'a`,
/// so no host memory can go away while a container may touch it.
#[derive(Debug)]
pub struct MemoryMap<'a> {
    regions: [Region; SLOTS],
    _borrows: PhantomData<&'a mut [u8]>,
}

impl Default for MemoryMap<'_> {
    fn default() -> Self {
        MemoryMap { regions: [Region::EMPTY; SLOTS], _borrows: PhantomData }
    }
}

impl<'a> MemoryMap<'a> {
    fn set(&mut self, slot: usize, base: *mut u8, len: usize, writable: bool) -> Result<u64, MapError> {
        if len as u64 > MAX_REGION_LEN {
            return Err(MapError::TooLarge);
        }
        self.regions[slot] = Region { base, len: len as u32, writable: writable as u32 };
        Ok(slot_start(slot))
    }

    /// Maps a read-only region at a fixed slot; returns its virtual start address.
    pub fn map_readonly(&mut self, slot: Slot, bytes: &'a [u8]) -> Result<u64, MapError> {
        self.set(slot as usize, bytes.as_ptr() as *mut u8, bytes.len(), false)
    }

    /// Maps a read-write region at a fixed slot; returns its virtual start address.
    pub fn map_writable(&mut self, slot: Slot, bytes: &'a mut [u8]) -> Result<u64, MapError> {
        self.set(slot as usize, bytes.as_mut_ptr(), bytes.len(), true)
    }

    /// Maps the `n`-th region a host added (slot 5 + n) read-write; returns its virtual start address.
    pub fn map_extra(&mut self, n: usize, bytes: &'a mut [u8]) -> Result<u64, MapError> {
        let slot = Self::extra_slot(n)?;
        self.set(slot, bytes.as_mut_ptr(), bytes.len(), true)
    }

    /// Maps the `n`-th region a host added (slot 5 + n) read-only.
    pub fn map_extra_readonly(&mut self, n: usize, bytes: &'a [u8]) -> Result<u64, MapError> {
        let slot = Self::extra_slot(n)?;
        self.set(slot, bytes.as_ptr() as *mut u8, bytes.len(), false)
    }

    /// The slot of the `n`-th extra region.
    pub fn extra_slot(n: usize) -> Result<usize, MapError> {
        Some(FIRST_EXTRA_SLOT + n).filter(|&s| s < SLOTS).ok_or(MapError::NoFreeSlot)
    }

    /// The table native code reads.
    pub fn regions(&self) -> &[Region; SLOTS] {
        &self.regions
    }

    /// The one access check: `[addr, addr + len)` must lie inside one region that
    /// grants `access`. Returns the host address.
    #[inline(always)]
    pub fn check(&self, addr: u64, len: usize, access: Access) -> Option<*mut u8> {
        check_in(&self.regions, addr, len, access)
    }

    /// Why [`check`](Self::check) refuses `[addr, addr + len)` for `access`; `None` when it allows it.
    pub fn refusal(&self, addr: u64, len: usize, access: Access) -> Option<Refusal> {
        access_in(&self.regions, addr, len, access).err()
    }

    /// Reads `size` bytes at `addr`, zero-extended.
    pub fn load(&self, addr: u64, size: Size) -> Option<u64> {
        load_in(&self.regions, addr, size)
    }

    /// Writes the low `size` bytes of `value` at `addr`.
    pub fn store(&mut self, addr: u64, size: Size, value: u64) -> Option<()> {
        // SAFETY: `&mut self` is the only access to the mapped bytes meanwhile.
        unsafe { store_in(&self.regions, addr, size, value) }
    }

    /// The bytes of `[addr, addr + len)` if readable.
    pub fn read(&self, addr: u64, len: usize) -> Option<&[u8]> {
        let p = self.check(addr, len, Access::Read)?;
        // SAFETY: `check` proved `len` bytes readable in a region the map borrows for
        // `'a`, which outlives `&self`; `&self` keeps `write` and `store` away meanwhile.
        Some(unsafe { core::slice::from_raw_parts(p, len) })
    }

    /// The bytes of `[addr, addr + len)` if writable.
    pub fn write(&mut self, addr: u64, len: usize) -> Option<&mut [u8]> {
        let p = self.check(addr, len, Access::Write)?;
        // SAFETY: `check` proved `len` bytes writable in a region the map borrows
        // mutably for `'a`; `&mut self` keeps every other access away meanwhile.
        Some(unsafe { core::slice::from_raw_parts_mut(p, len) })
    }

    /// A NUL-terminated string starting at `addr`, without the NUL, if it lies in one readable region.
    pub fn c_string(&self, addr: u64) -> Option<&[u8]> {
        let rest = self.read(addr, rest_of_region(&self.regions, addr)?)?;
        rest.iter().position(|&b| b == 0).map(|n| &rest[..n])
    }

    /// The view of this map a helper gets during a run: it reaches the same bytes
    /// but cannot map, unmap or replace regions.
    pub fn helper_view(&mut self) -> HelperMemory<'_> {
        HelperMemory { regions: &self.regions, _bytes: PhantomData }
    }
}

/// See [`MemoryMap::check`].
#[inline(always)]
fn check_in(regions: &[Region; SLOTS], addr: u64, len: usize, access: Access) -> Option<*mut u8> {
    access_in(regions, addr, len, access).ok()
}

/// The one access check, with the reason for a refusal (which the hot path drops).
#[inline(always)]
fn access_in(regions: &[Region; SLOTS], addr: u64, len: usize, access: Access) -> Result<*mut u8, Refusal> {
    if addr >> 32 != 0 {
        return Err(Refusal::NoRegion);
    }
    let slot = (addr >> SLOT_SHIFT) as usize;
    let region = &regions[slot];
    // Slot 0 and unmapped slots have len 0: nothing, not even an empty range, is inside them.
    if region.len == 0 {
        return Err(Refusal::NoRegion);
    }
    let offset = addr & (SLOT_SIZE - 1);
    // Helpers pass lengths from containers: no addition that a huge length could wrap.
    let fits = (len as u64) <= region.len as u64 && offset <= region.len as u64 - len as u64;
    if !fits {
        return Err(Refusal::OutOfBounds { slot, len: region.len });
    }
    if access != Access::Read && region.writable == 0 {
        return Err(Refusal::ReadOnly { slot, len: region.len });
    }
    // SAFETY: `offset <= region.len` (checked above), and a mapped region is `len`
    // bytes at `base` of a live borrow, so the result is inside or one past that borrow.
    Ok(unsafe { region.base.add(offset as usize) })
}

/// Why [`MemoryMap::check`] refuses an access ([`MemoryMap::refusal`]), for messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// No region is mapped there: above 32 bits, slot 0, or an unmapped slot.
    NoRegion,
    /// Not every byte lies inside the `len`-byte region of `slot`.
    OutOfBounds { slot: usize, len: u32 },
    /// The `len`-byte region of `slot` cannot be written.
    ReadOnly { slot: usize, len: u32 },
}

/// The name of the region in `slot`, as messages call it.
struct RegionName(usize);

impl fmt::Display for RegionName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            s if s == Slot::Rodata as usize => f.write_str("rodata"),
            s if s == Slot::Data as usize => f.write_str("data + bss"),
            s if s == Slot::Stack as usize => f.write_str("stack"),
            s if s == Slot::Context as usize => f.write_str("context"),
            s => write!(f, "the region at 0x{:x}", slot_start(s)),
        }
    }
}

/// `context is 20 bytes`, `rodata is read-only (16 bytes)`, `no region there`.
impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Refusal::NoRegion => f.write_str("no region there"),
            Refusal::OutOfBounds { slot, len } => write!(f, "{} is {len} bytes", RegionName(slot)),
            Refusal::ReadOnly { slot, len } => write!(f, "{} is read-only ({len} bytes)", RegionName(slot)),
        }
    }
}

fn load_in(regions: &[Region; SLOTS], addr: u64, size: Size) -> Option<u64> {
    let p = check_in(regions, addr, size.bytes(), Access::Read)?;
    let mut b = [0u8; 8];
    // SAFETY: `check_in` proved `size` (<= 8) bytes at `p` readable; `b` holds 8;
    // a byte copy needs no alignment.
    unsafe { core::ptr::copy_nonoverlapping(p, b.as_mut_ptr(), size.bytes()) };
    Some(u64::from_le_bytes(b))
}

/// # Safety
/// The caller has exclusive access to the bytes `regions` maps (a `&mut` to their map or view).
unsafe fn store_in(regions: &[Region; SLOTS], addr: u64, size: Size, value: u64) -> Option<()> {
    let p = check_in(regions, addr, size.bytes(), Access::Write)?;
    // SAFETY: `check_in` proved `size` (<= 8) bytes at `p` writable, nothing else
    // accesses them (the caller's contract); a byte copy needs no alignment.
    unsafe { core::ptr::copy_nonoverlapping(value.to_le_bytes().as_ptr(), p, size.bytes()) };
    Some(())
}

/// Bytes from `addr` to the end of its region, if the slot is mapped past `addr`.
fn rest_of_region(regions: &[Region; SLOTS], addr: u64) -> Option<usize> {
    if addr >> 32 != 0 {
        return None;
    }
    let region = &regions[(addr >> SLOT_SHIFT) as usize];
    (region.len as usize).checked_sub((addr & (SLOT_SIZE - 1)) as usize)
}

/// What a helper gets of the run's memory ([`MemoryMap::helper_view`]): it checks
/// and translates container addresses, reads and writes through the map, but has
/// no way to map, unmap or replace a region. Engines other than the reference
/// interpreter copy the region table when a run starts, so a helper that could
/// remap would make the engines disagree.
///
/// A helper can check, read and write:
///
/// ```
/// use fc_runtime::env::Environment;
/// use fc_runtime::helpers::Profile;
/// use fc_runtime::memory::{Access, HelperMemory};
/// use fc_runtime::stores::StoreContext;
///
/// fn helper(args: [u64; 5], mem: &mut HelperMemory) -> u64 {
///     let ok = mem.check(args[0], 4, Access::Write).is_some() && mem.c_string(args[1]).is_some();
///     if let Some(bytes) = mem.write(args[0], 4) {
///         bytes.copy_from_slice(&[1, 2, 3, 4]);
///     }
///     ok as u64
/// }
/// let stores = StoreContext::new();
/// let mut env = Environment::new(&stores, Profile::Sming);
/// assert!(env.register(0x100, 2, helper));
/// ```
///
/// but it cannot map a region:
///
/// ```compile_fail,E0599
/// use fc_runtime::memory::{HelperMemory, Slot};
///
/// fn helper(_args: [u64; 5], mem: &mut HelperMemory) -> u64 {
///     let leaked: &'static mut [u8] = Box::leak(vec![0u8; 64].into_boxed_slice());
///     mem.map_writable(Slot::Data, leaked).is_ok() as u64
/// }
/// ```
///
/// ```compile_fail,E0599
/// use fc_runtime::memory::{HelperMemory, Slot};
///
/// fn helper(_args: [u64; 5], mem: &mut HelperMemory) -> u64 {
///     static OTHER: [u8; 4] = [0; 4];
///     mem.map_readonly(Slot::Rodata, &OTHER).is_ok() as u64
/// }
/// ```
///
/// nor replace the map it views with another (a view is not a map):
///
/// ```compile_fail,E0308
/// use fc_runtime::memory::{HelperMemory, MemoryMap};
///
/// fn helper(_args: [u64; 5], mem: &mut HelperMemory) -> u64 {
///     *mem = MemoryMap::default();
///     0
/// }
/// ```
#[derive(Debug)]
pub struct HelperMemory<'m> {
    regions: &'m [Region; SLOTS],
    /// Made from a `&'m mut MemoryMap`: the view has the mapped bytes to itself for `'m`.
    _bytes: PhantomData<&'m mut [u8]>,
}

impl HelperMemory<'_> {
    /// As [`MemoryMap::check`].
    #[inline(always)]
    pub fn check(&self, addr: u64, len: usize, access: Access) -> Option<*mut u8> {
        check_in(self.regions, addr, len, access)
    }

    /// As [`MemoryMap::load`].
    pub fn load(&self, addr: u64, size: Size) -> Option<u64> {
        load_in(self.regions, addr, size)
    }

    /// As [`MemoryMap::store`].
    pub fn store(&mut self, addr: u64, size: Size, value: u64) -> Option<()> {
        // SAFETY: the view was made from a `&mut MemoryMap` it still borrows, and
        // `&mut self` is the only access to the view meanwhile.
        unsafe { store_in(self.regions, addr, size, value) }
    }

    /// The bytes of `[addr, addr + len)` if readable (strings, sources).
    pub fn read(&self, addr: u64, len: usize) -> Option<&[u8]> {
        let p = self.check(addr, len, Access::Read)?;
        // SAFETY: `check` proved `len` bytes readable in a region borrowed for longer
        // than the view; the view has the bytes to itself (made from `&mut MemoryMap`)
        // and `&self` keeps its `write` and `store` away meanwhile.
        Some(unsafe { core::slice::from_raw_parts(p, len) })
    }

    /// The bytes of `[addr, addr + len)` if writable.
    pub fn write(&mut self, addr: u64, len: usize) -> Option<&mut [u8]> {
        let p = self.check(addr, len, Access::Write)?;
        // SAFETY: `check` proved `len` bytes writable in a region borrowed mutably for
        // longer than the view; the view has the bytes to itself and `&mut self`
        // keeps every other access through it away meanwhile.
        Some(unsafe { core::slice::from_raw_parts_mut(p, len) })
    }

    /// As [`MemoryMap::c_string`].
    pub fn c_string(&self, addr: u64) -> Option<&[u8]> {
        let rest = self.read(addr, rest_of_region(self.regions, addr)?)?;
        rest.iter().position(|&b| b == 0).map(|n| &rest[..n])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::string::ToString;

    #[test]
    fn the_map_checks_every_byte() {
        let rodata = [1u8, 2, 3, 4];
        let mut stack = [0u8; 16];
        let mut m = MemoryMap::default();
        assert_eq!(m.map_readonly(Slot::Rodata, &rodata), Ok(0x1000_0000));
        assert_eq!(m.map_writable(Slot::Stack, &mut stack), Ok(0x3000_0000));
        assert_eq!(m.load(0x1000_0000, Size::W), Some(0x0403_0201));
        assert_eq!(m.load(0x1000_0001, Size::W), None, "one byte past the end");
        assert_eq!(m.store(0x1000_0000, Size::B, 9), None, "rodata is read-only");
        assert_eq!(m.store(0x3000_0008, Size::DW, u64::MAX), Some(()));
        assert_eq!(m.load(0x3000_000f, Size::B), Some(0xff));
        assert_eq!(m.load(0x3000_0010, Size::B), None);
        assert_eq!(m.load(0x1_3000_0000, Size::B), None, "upper 32 bits set");
        assert_eq!(m.load(0x0000_0000, Size::B), None, "slot 0");
        assert_eq!(m.load(0x2000_0000, Size::B), None, "unmapped slot");
        assert!(m.check(0x3000_0000, 0, Access::Read).is_some());
        assert!(m.check(0x4000_0000, 0, Access::Read).is_none(), "empty range in an unmapped slot");
        // A length near 2^64 must not wrap the bounds check around (memcpy's n comes from containers).
        assert!(m.check(0x3000_0008, usize::MAX - 7, Access::Write).is_none());
        assert!(m.check(0x3000_0000, usize::MAX, Access::Read).is_none());
    }

    #[test]
    fn refusals_name_the_region_and_its_length() {
        let rodata = [0u8; 16];
        let mut ctx = [0u8; 20];
        let mut m = MemoryMap::default();
        m.map_readonly(Slot::Rodata, &rodata).unwrap();
        m.map_writable(Slot::Context, &mut ctx).unwrap();
        let why = |addr, len, access| m.refusal(addr, len, access).map(|r| r.to_string());
        assert_eq!(why(0x4000_0010, 4, Access::Write), None);
        assert_eq!(why(0x4000_0014, 4, Access::Write).as_deref(), Some("context is 20 bytes"));
        assert_eq!(why(0x4000_0012, 4, Access::Read).as_deref(), Some("context is 20 bytes"), "straddles the end");
        assert_eq!(why(0x1000_0000, 1, Access::Write).as_deref(), Some("rodata is read-only (16 bytes)"));
        assert_eq!(why(0x1000_0010, 1, Access::Write).as_deref(), Some("rodata is 16 bytes"), "bounds first");
        assert_eq!(why(0x1234_5678, 8, Access::Read).as_deref(), Some("rodata is 16 bytes"));
        assert_eq!(why(0x2000_0000, 8, Access::Read).as_deref(), Some("no region there"));
        assert_eq!(why(0x1_4000_0000, 1, Access::Read).as_deref(), Some("no region there"));
        assert_eq!(why(0x0000_0008, 1, Access::Read).as_deref(), Some("no region there"));
        assert_eq!(Refusal::OutOfBounds { slot: 5, len: 3 }.to_string(), "the region at 0x50000000 is 3 bytes");
    }

    #[test]
    fn strings_end_inside_their_region() {
        let rodata = *b"hi\0ab";
        let mut m = MemoryMap::default();
        m.map_readonly(Slot::Rodata, &rodata).unwrap();
        assert_eq!(m.c_string(0x1000_0000), Some(&b"hi"[..]));
        assert_eq!(m.c_string(0x1000_0003), None, "no NUL before the end");
    }
}
