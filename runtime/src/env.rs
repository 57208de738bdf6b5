//! The helpers themselves (spec §3): printf, memcpy, the stores, the clock, unwind,
//! and the application helpers a host registers from 0x100 up.

use alloc::boxed::Box;
use alloc::vec::Vec;

use crate::fallible;
use crate::helpers::{work_units, Builtin, HelperOutcome, Helpers, Profile, FIRST_APP_HELPER};
use crate::memory::{Access, HelperMemory};
use crate::stores::{Owner, StoreContext};

/// An application helper: gets r1..r5 and a view of the run's memory map (to check
/// and translate container addresses; it cannot remap), returns r0.
pub type AppHelper<'a> = Box<dyn FnMut([u64; 5], &mut HelperMemory) -> u64 + 'a>;

/// Where printf output goes, one line at a time.
type Sink<'a> = Box<dyn FnMut(&[u8]) + 'a>;

/// Helper failure value: an `int` -1 as the container sees it in r0.
const FAIL: u64 = u64::MAX;

/// The host side of a VM's helpers: profile, stores, output sink, clock, application helpers.
pub struct Environment<'a> {
    profile: Profile,
    stores: &'a StoreContext,
    local: Owner,
    sink: Option<Sink<'a>>,
    clock: Option<Box<dyn Fn() -> u32 + 'a>>,
    apps: Vec<(u32, u8, AppHelper<'a>)>,
    /// printf output of the current line, delivered at a newline or when the run ends.
    pending: Vec<u8>,
}

impl<'a> Environment<'a> {
    pub fn new(stores: &'a StoreContext, profile: Profile) -> Self {
        Environment { profile, local: stores.new_local(), stores, sink: None, clock: None, apps: Vec::new(), pending: Vec::new() }
    }
    pub fn profile(&self) -> Profile {
        self.profile
    }
    pub fn set_profile(&mut self, profile: Profile) {
        self.profile = profile;
    }
    pub fn stores(&self) -> &'a StoreContext {
        self.stores
    }
    /// The owner of this VM's local store.
    pub fn local_owner(&self) -> Owner {
        self.local
    }
    /// Where printf output goes, one line (with its newline) at a time. False (and the
    /// sink as it was) when there is no memory for it.
    pub fn set_output(&mut self, sink: impl FnMut(&[u8]) + 'a) -> bool {
        match fallible::boxed(sink) {
            Ok(sink) => self.sink = Some(sink),
            Err(_) => return false,
        }
        true
    }
    /// The clock `bpf_now_ms` reads; without one it returns 0. False when there is no memory for it.
    pub fn set_clock(&mut self, clock: impl Fn() -> u32 + 'a) -> bool {
        match fallible::boxed(clock) {
            Ok(clock) => self.clock = Some(clock),
            Err(_) => return false,
        }
        true
    }
    /// Registers (or replaces) application helper `id` (>= 0x100) reading `arity` arguments.
    /// Returns false for an id below 0x100, or when there is no memory for the helper.
    pub fn register(&mut self, id: u32, arity: u8, helper: impl FnMut([u64; 5], &mut HelperMemory) -> u64 + 'a) -> bool {
        if id < FIRST_APP_HELPER {
            return false;
        }
        let Ok(helper) = fallible::boxed(helper) else { return false };
        self.apps.retain(|(i, _, _)| *i != id);
        fallible::push(&mut self.apps, (id, arity.min(5), helper)).is_ok()
    }
    /// Delivers printf output that did not end in a newline (called when a run ends).
    pub fn flush(&mut self) {
        Printer { pending: &mut self.pending, sink: &mut self.sink, printed: 0 }.flush();
    }

    fn printf(&mut self, args: [u64; 5], memory: &HelperMemory) -> u64 {
        let mut printer = Printer { pending: &mut self.pending, sink: &mut self.sink, printed: 0 };
        match render(args, memory, &mut printer) {
            Some(()) => printer.printed,
            None => FAIL,
        }
    }

    fn store(&mut self, owner: Owner, args: [u64; 5]) -> u64 {
        if self.stores.update(owner, args[0] as u32, args[1] as u32) {
            0
        } else {
            FAIL
        }
    }

    fn fetch(&mut self, owner: Owner, args: [u64; 5], memory: &mut HelperMemory) -> u64 {
        // The pointer is checked before the store is touched: a bad pointer inserts nothing.
        if memory.check(args[1], 4, Access::Write).is_none() {
            return FAIL;
        }
        match self.stores.fetch(owner, args[0] as u32) {
            Some(v) => memory.store(args[1], crate::insn::Size::W, v as u64).map_or(FAIL, |()| 0),
            None => FAIL,
        }
    }
}

/// memcpy with memmove semantics; nothing is copied unless both ranges are valid.
fn memcpy(args: [u64; 5], memory: &mut HelperMemory) -> u64 {
    let (dst, src, n) = (args[0], args[1], args[2]);
    if n == 0 {
        return 0;
    }
    let Ok(len) = usize::try_from(n) else { return FAIL };
    match (memory.check(dst, len, Access::Write), memory.check(src, len, Access::Read)) {
        (Some(d), Some(s)) => {
            // SAFETY: `check` proved `len` bytes at `s` readable and at `d` writable,
            // and the view has the mapped bytes to itself; `copy` allows overlap.
            unsafe { core::ptr::copy(s, d, len) };
            0
        }
        _ => FAIL,
    }
}

/// The bytes a memcpy call moves: `n` when both ranges are valid, else none.
fn memcpy_moves(args: [u64; 5], memory: &HelperMemory) -> u64 {
    let (dst, src, n) = (args[0], args[1], args[2]);
    let Ok(len) = usize::try_from(n) else { return 0 };
    match (memory.check(dst, len, Access::Write), memory.check(src, len, Access::Read)) {
        (Some(_), Some(_)) => n,
        _ => 0,
    }
}

/// Where a printf rendering goes: the bytes themselves, or only how many there are.
trait Output {
    fn push(&mut self, byte: u8);
    fn extend_from_slice(&mut self, bytes: &[u8]);
}

/// printf output on its way to the sink: each line is delivered at its newline. A run
/// allocates only the line buffer; when even that cannot grow, the line is delivered in
/// pieces rather than lost.
struct Printer<'e, 'a> {
    pending: &'e mut Vec<u8>,
    sink: &'e mut Option<Sink<'a>>,
    printed: u64,
}

impl Printer<'_, '_> {
    fn deliver(&mut self, bytes: &[u8]) {
        if let Some(sink) = self.sink.as_mut() {
            sink(bytes);
        }
    }
    fn flush(&mut self) {
        if !self.pending.is_empty() {
            let line = core::mem::take(self.pending);
            self.deliver(&line);
            // The buffer is kept for the next line.
            *self.pending = line;
            self.pending.clear();
        }
    }
}

impl Output for Printer<'_, '_> {
    fn push(&mut self, byte: u8) {
        self.printed += 1;
        if fallible::push(self.pending, byte).is_err() {
            self.flush();
            self.deliver(&[byte]);
        } else if byte == b'\n' {
            self.flush();
        }
    }
    fn extend_from_slice(&mut self, bytes: &[u8]) {
        bytes.iter().for_each(|&b| self.push(b));
    }
}

/// Counts the bytes a rendering would print (printf's cost).
struct Count(u64);

impl Output for Count {
    fn push(&mut self, _byte: u8) {
        self.0 += 1;
    }
    fn extend_from_slice(&mut self, bytes: &[u8]) {
        self.0 += bytes.len() as u64;
    }
}

/// The bytes a printf call prints (0 when it fails and prints nothing).
fn printf_prints(args: [u64; 5], memory: &HelperMemory) -> u64 {
    let mut count = Count(0);
    render(args, memory, &mut count).map_or(0, |()| count.0)
}

/// Renders a printf call into `out`; `None` (and nothing rendered) when the format or a
/// `%s` argument is not readable. One copy for printing and for counting (printf's
/// cost): on a microcontroller it is a kilobyte of code.
#[inline(never)]
fn render(args: [u64; 5], memory: &HelperMemory, out: &mut dyn Output) -> Option<()> {
    let fmt = memory.c_string(args[0])?;
    // Check every %s before printing anything.
    for pass in [false, true] {
        let mut next_arg = 1;
        let mut i = 0;
        while i < fmt.len() {
            if fmt[i] != b'%' {
                if pass {
                    out.push(fmt[i]);
                }
                i += 1;
                continue;
            }
            let start = i;
            i += 1;
            let mut longs = 0;
            while i < fmt.len() && fmt[i] == b'l' && longs < 2 {
                longs += 1;
                i += 1;
            }
            let conv = fmt.get(i).copied();
            i += 1;
            let known = matches!((conv, longs), (Some(b'd' | b'i' | b'u' | b'x'), _) | (Some(b'X' | b's' | b'c' | b'p'), 0))
                || (conv == Some(b'%') && longs == 0);
            if !known {
                if pass {
                    out.extend_from_slice(&fmt[start..i.min(fmt.len())]);
                }
                continue;
            }
            if conv == Some(b'%') {
                if pass {
                    out.push(b'%');
                }
                continue;
            }
            // Conversions past the fourth argument print nothing: r1..r5 hold fmt + 4.
            let arg = args.get(next_arg).copied();
            next_arg += 1;
            let Some(v) = arg else { continue };
            if conv == Some(b's') {
                let s = memory.c_string(v)?;
                if pass {
                    out.extend_from_slice(s);
                }
                continue;
            }
            if !pass {
                continue;
            }
            // Digits by hand, not core::fmt: on a microcontroller its machinery is kilobytes.
            let mut buf = [0u8; 24];
            let (sign, magnitude, radix, upper) = match (conv, longs) {
                (Some(b'd' | b'i'), 0) => ((v as i32) < 0, (v as i32).unsigned_abs() as u64, 10, false),
                (Some(b'd' | b'i'), _) => ((v as i64) < 0, (v as i64).unsigned_abs(), 10, false),
                (Some(b'u'), 0) => (false, v as u32 as u64, 10, false),
                (Some(b'x'), 0) => (false, v as u32 as u64, 16, false),
                (Some(b'X'), _) => (false, v as u32 as u64, 16, true),
                (Some(b'c'), _) => {
                    out.push(v as u8);
                    continue;
                }
                (Some(b'p'), _) => {
                    out.extend_from_slice(b"0x");
                    (false, v, 16, false)
                }
                (Some(b'x'), _) => (false, v, 16, false),
                _ => (false, v, 10, false),
            };
            if sign {
                out.push(b'-');
            }
            out.extend_from_slice(crate::text::digits(magnitude, radix, upper, &mut buf));
        }
    }
    Some(())
}

impl Helpers for Environment<'_> {
    fn arity(&self, id: u32) -> Option<u8> {
        match self.profile.builtin(id) {
            Some(b) => Some(b.arity()),
            // Only what the host registered: a profile never provides application helpers itself.
            None => self.apps.iter().find(|(i, _, _)| *i == id).map(|(_, a, _)| *a),
        }
    }

    fn call(&mut self, id: u32, args: [u64; 5], memory: &mut HelperMemory) -> HelperOutcome {
        let local = self.local;
        let r0 = match self.profile.builtin(id) {
            Some(Builtin::Printf) => self.printf(args, memory),
            Some(Builtin::Memcpy) => memcpy(args, memory),
            Some(Builtin::StoreGlobal) => self.store(Owner::Global, args),
            Some(Builtin::StoreLocal) => self.store(local, args),
            Some(Builtin::FetchGlobal) => self.fetch(Owner::Global, args, memory),
            Some(Builtin::FetchLocal) => self.fetch(local, args, memory),
            Some(Builtin::NowMs) => self.clock.as_ref().map_or(0, |c| c()) as u64,
            Some(Builtin::Unwind) => match args[0] {
                0 => return HelperOutcome::Exit(0),
                v => v,
            },
            None => match self.apps.iter_mut().find(|(i, _, _)| *i == id) {
                Some((_, _, helper)) => helper(args, memory),
                // The verifier rejected calls to helpers that are not registered.
                None => FAIL,
            },
        };
        HelperOutcome::Return(r0)
    }

    fn cost(&self, id: u32, args: [u64; 5], memory: &HelperMemory) -> u64 {
        // The bytes moved (memcpy) or printed (printf); nothing else costs.
        match self.profile.builtin(id) {
            Some(Builtin::Printf) => work_units(printf_prints(args, memory)),
            Some(Builtin::Memcpy) => work_units(memcpy_moves(args, memory)),
            _ => 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::memory::{MemoryMap, Slot};

    fn printf(fmt: &[u8], args: [u64; 4]) -> Option<Vec<u8>> {
        let mut rodata = fmt.to_vec();
        rodata.extend_from_slice(b"\0str\0");
        let mut m = MemoryMap::default();
        m.map_readonly(Slot::Rodata, &rodata).unwrap();
        let mut out = Vec::new();
        render([0x1000_0000, args[0], args[1], args[2], args[3]], &m.helper_view(), &mut out).map(|()| out)
    }

    impl Output for Vec<u8> {
        fn push(&mut self, byte: u8) {
            Vec::push(self, byte)
        }
        fn extend_from_slice(&mut self, bytes: &[u8]) {
            Vec::extend_from_slice(self, bytes)
        }
    }

    #[test]
    fn printf_formats_like_c() {
        let run = |fmt: &[u8], args: [u64; 4]| printf(fmt, args).map(|o| alloc::string::String::from_utf8(o).unwrap());
        assert_eq!(run(b"%d %u %x %X", [-5i64 as u64, -1i64 as u64, 255, 255]).as_deref(), Some("-5 4294967295 ff FF"));
        assert_eq!(run(b"%ld %llu %lx %c", [-7i64 as u64, u64::MAX, 1 << 40, b'A' as u64]).as_deref(),
            Some("-7 18446744073709551615 10000000000 A"));
        assert_eq!(run(b"%% %q %i %p", [3, 0x2000_0010, 0, 0]).as_deref(), Some("% %q 3 0x20000010"));
        // rodata is "FMT\0str\0": the %s argument points at "str".
        let fmt = b"<%s>";
        assert_eq!(run(fmt, [0x1000_0000 + fmt.len() as u64 + 1, 0, 0, 0]).as_deref(), Some("<str>"));
        assert_eq!(run(fmt, [0x4000_0000, 0, 0, 0]), None, "unreadable %s: the helper fails");
    }

    #[test]
    fn helpers_cost_one_unit_per_started_4_kib_past_the_first() {
        assert_eq!([0, 1, 4096, 4097, 8192, 8193].map(work_units), [0, 0, 0, 1, 1, 2]);
        assert_eq!(work_units(128 << 20), 32767);
        assert_eq!(work_units(u64::MAX), u64::MAX / 4096);

        let stores = StoreContext::new();
        let env = Environment::new(&stores, Profile::Sming);
        let mut big = alloc::vec![b'x'; 3 << 20];
        *big.last_mut().unwrap() = 0;
        let mut m = MemoryMap::default();
        m.map_writable(Slot::Data, &mut big).unwrap();
        let view = m.helper_view();
        let (data, len) = (0x2000_0000u64, 3u64 << 20);
        // memcpy: what it moves; nothing when a range is invalid (it fails and moves nothing).
        assert_eq!(env.cost(0x02, [data, data + (1 << 20), 1 << 20, 0, 0], &view), 255);
        assert_eq!(env.cost(0x02, [data, data + 4096, 4096, 0, 0], &view), 0);
        assert_eq!(env.cost(0x02, [data, data + 4096, 4097, 0, 0], &view), 1);
        assert_eq!(env.cost(0x02, [data, data + 1, len, 0, 0], &view), 0, "source past the end");
        assert_eq!(env.cost(0x02, [0x1000_0000, data, 8192, 0, 0], &view), 0, "unmapped destination");
        // printf: what it prints; the string is 3 MiB - 1 bytes long.
        assert_eq!(env.cost(0x01, [data, 0, 0, 0, 0], &view), work_units(len - 1));
        assert_eq!(env.cost(0x01, [data + len - 5000, 0, 0, 0, 0], &view), 1);
        assert_eq!(env.cost(0x01, [data + len - 4096, 0, 0, 0, 0], &view), 0);
        assert_eq!(env.cost(0x01, [0x5000_0000, 0, 0, 0, 0], &view), 0, "unreadable: prints nothing");
        // Other helpers cost nothing; the riot profile numbers printf and memcpy alike.
        assert_eq!(env.cost(0x10, [1, 2, 0, 0, 0], &view), 0);
        let riot = Environment::new(&stores, Profile::Riot);
        assert_eq!(riot.cost(0x02, [data, data + (1 << 20), 1 << 20, 0, 0], &view), 255);
        let conformance = Environment::new(&stores, Profile::Conformance);
        assert_eq!(conformance.cost(0x02, [data, data + (1 << 20), 1 << 20, 0, 0], &view), 0);
    }
}
