//! Helper dispatch: the id profiles and the interface engines call helpers through.

use crate::memory::HelperMemory;

/// Which numbering of helper ids a VM uses (spec §3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Profile {
    /// Sming's ids (the default).
    #[default]
    Sming,
    /// RIOT's Femto-Container ids (stores numbered the other way round).
    Riot,
    /// Test profile for conformance data only: helper 5 is uBPF's unwind.
    Conformance,
}

/// The helpers the runtime implements, whatever their id in a profile.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Builtin {
    Printf,
    Memcpy,
    StoreGlobal,
    StoreLocal,
    FetchGlobal,
    FetchLocal,
    NowMs,
    /// Returns its r1; when that is 0 the program ends at once with r0 = 0.
    Unwind,
}

impl Builtin {
    /// How many of r1..r5 the helper reads (the verifier checks they are defined).
    pub const fn arity(self) -> u8 {
        match self {
            Builtin::Printf | Builtin::Unwind => 1,
            Builtin::Memcpy => 3,
            Builtin::StoreGlobal | Builtin::StoreLocal | Builtin::FetchGlobal | Builtin::FetchLocal => 2,
            Builtin::NowMs => 0,
        }
    }

    /// The name containers call it by (`containers/include/fc_helpers.h`).
    pub const fn name(self) -> &'static str {
        match self {
            Builtin::Printf => "bpf_printf",
            Builtin::Memcpy => "bpf_memcpy",
            Builtin::StoreGlobal => "bpf_store_global",
            Builtin::StoreLocal => "bpf_store_local",
            Builtin::FetchGlobal => "bpf_fetch_global",
            Builtin::FetchLocal => "bpf_fetch_local",
            Builtin::NowMs => "bpf_now_ms",
            Builtin::Unwind => "bpf_unwind",
        }
    }
}

/// First id of application helpers the host registers.
pub const FIRST_APP_HELPER: u32 = 0x100;

impl Profile {
    /// The built-in helper a profile gives an id, if any.
    pub const fn builtin(self, id: u32) -> Option<Builtin> {
        match (self, id) {
            (Profile::Conformance, 5) => Some(Builtin::Unwind),
            (Profile::Conformance, _) => None,
            (_, 0x01) => Some(Builtin::Printf),
            (_, 0x02) => Some(Builtin::Memcpy),
            (_, 0x20) => Some(Builtin::NowMs),
            (Profile::Sming, 0x10) | (Profile::Riot, 0x11) => Some(Builtin::StoreGlobal),
            (Profile::Sming, 0x11) | (Profile::Riot, 0x10) => Some(Builtin::StoreLocal),
            (Profile::Sming, 0x12) | (Profile::Riot, 0x13) => Some(Builtin::FetchGlobal),
            (Profile::Sming, 0x13) | (Profile::Riot, 0x12) => Some(Builtin::FetchLocal),
            _ => None,
        }
    }

    pub const fn name(self) -> &'static str {
        match self {
            Profile::Sming => "sming",
            Profile::Riot => "riot",
            Profile::Conformance => "conformance",
        }
    }
}

/// What a helper call does to the program.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HelperOutcome {
    /// r0 = the value; the program goes on.
    Return(u64),
    /// The program ends now with r0 = the value (unwind).
    Exit(u64),
}

/// The helpers a VM offers; engines call them with r1..r5 and a view of the run's
/// memory map ([`HelperMemory`]: it reads and writes, but cannot remap).
pub trait Helpers {
    /// How many arguments helper `id` reads, or `None` when the VM does not provide it
    /// (the load then fails with ILLEGAL_CALL).
    fn arity(&self, id: u32) -> Option<u8>;
    /// Calls helper `id`, which the verifier proved is provided.
    fn call(&mut self, id: u32, args: [u64; 5], memory: &mut HelperMemory) -> HelperOutcome;
    /// What calling helper `id` with `args` would cost in budget units (docs/budget.md):
    /// [`work_units`] of the bytes it would move or format. Every engine asks before
    /// [`call`](Self::call) when the run has a budget, and when the cost exceeds what is
    /// left the run stops with OUT_OF_BRANCHES at the call, which then does not happen.
    /// Without an override a helper costs nothing.
    fn cost(&self, _id: u32, _args: [u64; 5], _memory: &HelperMemory) -> u64 {
        0
    }
}

/// Bytes a helper call may move or format without costing budget (docs/budget.md).
pub const FREE_BYTES: u64 = 4096;

/// The budget units of a helper call that moves or formats `bytes` bytes: one per
/// started 4 KiB past the first 4 KiB (4 KiB cost 0, 4 KiB + 1 cost 1, 128 MiB 32767).
pub const fn work_units(bytes: u64) -> u64 {
    bytes.saturating_sub(1) / FREE_BYTES
}

/// The `conformance` profile on its own: only unwind, no host state.
#[derive(Clone, Copy, Debug, Default)]
pub struct ConformanceHelpers;

impl Helpers for ConformanceHelpers {
    fn arity(&self, id: u32) -> Option<u8> {
        Profile::Conformance.builtin(id).map(Builtin::arity)
    }
    fn call(&mut self, _id: u32, args: [u64; 5], _memory: &mut HelperMemory) -> HelperOutcome {
        match args[0] {
            0 => HelperOutcome::Exit(0),
            v => HelperOutcome::Return(v),
        }
    }
}
