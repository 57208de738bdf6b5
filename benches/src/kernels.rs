//! The benchmark kernels: which container, its context, its native build.

/// A kernel's native entry (the C source compiled by build.rs, renamed `native_<name>`).
pub type NativeFn = unsafe extern "C" fn(*mut u8) -> i64;

unsafe extern "C" {
    fn native_fletcher32(ctx: *mut u8) -> i64;
    fn native_crc32(ctx: *mut u8) -> i64;
    fn native_sort(ctx: *mut u8) -> i64;
    fn native_crc32_ctxtable(ctx: *mut u8) -> i64;
    fn native_store_loop(ctx: *mut u8) -> i64;
    fn native_calls(ctx: *mut u8) -> i64;
    fn native_arith64_loop(ctx: *mut u8) -> i64;
}

/// Where a kernel's source lives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Folder {
    /// `containers/` (the samples, used as they are).
    Containers,
    /// `benches/kernels/`.
    Kernels,
}

pub struct Kernel {
    pub name: &'static str,
    pub folder: Folder,
    pub what: &'static str,
    /// Taken jumps one run needs at most, as the source's header comment says (the tests check it).
    #[cfg_attr(not(test), allow(dead_code))]
    pub budget: u32,
    /// The context every run starts from.
    pub context: fn() -> Vec<u8>,
    pub native: NativeFn,
}

/// Every kernel, in table order. build.rs compiles the same list natively.
pub const KERNELS: [Kernel; 7] = [
    Kernel { name: "fletcher32", budget: 400, folder: Folder::Containers, what: "Fletcher-32 over 360 B", context: fletcher32_ctx, native: native_fletcher32 },
    Kernel { name: "crc32", budget: 1100, folder: Folder::Containers, what: "CRC-32 over 1 KiB, table in .rodata", context: crc32_ctx, native: native_crc32 },
    Kernel { name: "crc32_ctxtable", budget: 1100, folder: Folder::Kernels, what: "CRC-32 over 1 KiB, table in the context", context: crc32_ctxtable_ctx, native: native_crc32_ctxtable },
    Kernel { name: "sort", budget: 8192, folder: Folder::Containers, what: "bubble sort of 64 u32", context: sort_ctx, native: native_sort },
    Kernel { name: "store_loop", budget: 200, folder: Folder::Kernels, what: "64 x (store global, fetch global, store local)", context: store_loop_ctx, native: native_store_loop },
    Kernel { name: "calls", budget: 100, folder: Folder::Kernels, what: "256 local calls in a loop", context: calls_ctx, native: native_calls },
    Kernel { name: "arith64_loop", budget: 64, folder: Folder::Kernels, what: "64-bit mul/div/mod/shifts over 32 words", context: arith64_loop_ctx, native: native_arith64_loop },
];

pub fn kernel(name: &str) -> Option<&'static Kernel> {
    KERNELS.iter().find(|k| k.name == name)
}

/// Deterministic pseudo-random input (xorshift64*).
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed | 1)
    }
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    pub fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| (self.next() >> 24) as u8).collect()
    }
}

fn fletcher32_ctx() -> Vec<u8> {
    Rng::new(0xf1e7).bytes(360)
}

fn crc32_data() -> Vec<u8> {
    Rng::new(0xc3c3).bytes(1024)
}

fn crc32_ctx() -> Vec<u8> {
    crc32_data()
}

/// The zlib CRC-32 table (reflected polynomial 0xEDB88320).
pub fn crc32_table() -> [u32; 256] {
    let mut table = [0u32; 256];
    for (n, entry) in table.iter_mut().enumerate() {
        let mut c = n as u32;
        for _ in 0..8 {
            c = if c & 1 != 0 { 0xEDB8_8320 ^ (c >> 1) } else { c >> 1 };
        }
        *entry = c;
    }
    table
}

fn crc32_ctxtable_ctx() -> Vec<u8> {
    let mut ctx = crc32_data();
    ctx.extend(crc32_table().iter().flat_map(|w| w.to_le_bytes()));
    ctx
}

fn sort_ctx() -> Vec<u8> {
    let mut rng = Rng::new(0x5047);
    (0..64).flat_map(|_| (rng.next() as u32).to_le_bytes()).collect()
}

fn store_loop_ctx() -> Vec<u8> {
    let mut ctx = vec![0u8; 16];
    ctx[..4].copy_from_slice(&0x1234_5678u32.to_le_bytes());
    ctx
}

fn calls_ctx() -> Vec<u8> {
    let mut ctx = Rng::new(0xca11).bytes(64);
    ctx.resize(72, 0);
    ctx
}

fn arith64_loop_ctx() -> Vec<u8> {
    let mut rng = Rng::new(0xa64);
    let mut ctx: Vec<u8> = (0..32).flat_map(|_| rng.next().to_le_bytes()).collect();
    ctx.resize(264, 0);
    ctx
}
