//! The Femto-Container `.bin` format: a zero-copy reader for both header layouts and a writer.

use core::fmt;

/// `r B P F` read as a little-endian `u32`.
pub const MAGIC: u32 = 0x4650_4272;
/// The only version in use.
pub const VERSION: u32 = 0;
/// Flag bit 0: the old Python tools' compressed text variant (not supported).
pub const FLAG_COMPRESSED: u32 = 0x1;
/// Bytes per function-table entry: three `u16`.
pub const FUNCTION_ENTRY: usize = 6;

/// Which header a file uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layout {
    /// 28 bytes, seven `u32` (the seed's and RIOT's layout).
    Seed,
    /// 32 bytes, eight `u32` with `bss_len` after `data_len` (current Sming).
    Sming32,
}

impl Layout {
    pub const fn header_len(self) -> usize {
        match self {
            Layout::Seed => 28,
            Layout::Sming32 => 32,
        }
    }
    pub const fn name(self) -> &'static str {
        match self {
            Layout::Seed => "seed",
            Layout::Sming32 => "sming32",
        }
    }
}

/// How the reader picks the header layout.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum LayoutChoice {
    /// The layout whose length equation matches the file; both matching is an error.
    #[default]
    Auto,
    Only(Layout),
}

/// What is wrong with a `.bin` file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FormatError {
    /// Shorter than the header, or than the lengths in the header add up to.
    Truncated { expected: u64, actual: usize },
    /// Longer than the lengths in the header add up to.
    TrailingBytes { expected: u64, actual: usize },
    /// With `auto`, the file fits neither layout and is neither clearly short nor long.
    NoLayoutFits { actual: usize, seed: u64, sming32: u64 },
    /// With `auto`, the file fits both layouts.
    AmbiguousLayout,
    /// A length field does not fit the address space of a 32-bit target.
    LengthOverflow,
    BadMagic(u32),
    BadVersion(u32),
    Compressed,
    UnknownFlags(u32),
    /// Text is not a whole number of 8-byte slots.
    TextNotSlots { text_len: u32 },
    NameOutsideRodata { function: usize, offset: u16 },
    NameNotTerminated { function: usize, offset: u16 },
    NameNotUtf8 { function: usize },
    FunctionFlags { function: usize, flags: u16 },
    LocationUnaligned { function: usize, location: u16 },
    LocationOutsideText { function: usize, location: u16 },
}

impl fmt::Display for FormatError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            FormatError::Truncated { expected, actual } => {
                write!(f, "truncated file: {actual} bytes, the header needs {expected}")
            }
            FormatError::TrailingBytes { expected, actual } => {
                write!(f, "trailing bytes: {actual} bytes, the header accounts for {expected}")
            }
            FormatError::NoLayoutFits { actual, seed, sming32 } => write!(
                f,
                "file length {actual} fits neither header layout (28-byte layout needs {seed}, 32-byte layout needs {sming32})"
            ),
            FormatError::AmbiguousLayout => {
                f.write_str("file fits both the 28-byte and the 32-byte header layout: choose one with --layout seed|sming32")
            }
            FormatError::LengthOverflow => f.write_str("header lengths add up to more than 4 GiB"),
            FormatError::BadMagic(m) => write!(f, "wrong magic 0x{m:08x} (expected 0x{MAGIC:08x}, \"rBPF\")"),
            FormatError::BadVersion(v) => write!(f, "unsupported version {v} (expected {VERSION})"),
            FormatError::Compressed => f.write_str("compressed text (flag 0x1) is not supported"),
            FormatError::UnknownFlags(x) => write!(f, "unknown header flags 0x{x:x}"),
            FormatError::TextNotSlots { text_len } => {
                write!(f, "text length {text_len} is not a multiple of 8 (instruction slots)")
            }
            FormatError::NameOutsideRodata { function, offset } => {
                write!(f, "function {function}: name offset {offset} is outside rodata")
            }
            FormatError::NameNotTerminated { function, offset } => {
                write!(f, "function {function}: name at rodata offset {offset} has no terminating NUL")
            }
            FormatError::NameNotUtf8 { function } => write!(f, "function {function}: name is not UTF-8"),
            FormatError::FunctionFlags { function, flags } => {
                write!(f, "function {function}: flags 0x{flags:x} are not 0")
            }
            FormatError::LocationUnaligned { function, location } => {
                write!(f, "function {function}: location 0x{location:x} is not a multiple of 8")
            }
            FormatError::LocationOutsideText { function, location } => {
                write!(f, "function {function}: location 0x{location:x} is outside text")
            }
        }
    }
}

/// The header fields, whichever layout they came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Header {
    pub magic: u32,
    pub version: u32,
    pub flags: u32,
    pub data_len: u32,
    /// 0 in the seed layout (there bss is stored as zeros inside data).
    pub bss_len: u32,
    pub rodata_len: u32,
    pub text_len: u32,
    pub functions: u32,
}

impl Header {
    fn read(bytes: &[u8], layout: Layout) -> Option<Header> {
        let word = |i: usize| {
            let b = bytes.get(i * 4..i * 4 + 4)?;
            Some(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        };
        let (bss_len, rest) = match layout {
            Layout::Seed => (0, 4),
            Layout::Sming32 => (word(4)?, 5),
        };
        Some(Header {
            magic: word(0)?,
            version: word(1)?,
            flags: word(2)?,
            data_len: word(3)?,
            bss_len,
            rodata_len: word(rest)?,
            text_len: word(rest + 1)?,
            functions: word(rest + 2)?,
        })
    }

    /// The file length this header describes.
    fn total(&self, layout: Layout) -> u64 {
        layout.header_len() as u64
            + self.data_len as u64
            + self.rodata_len as u64
            + self.text_len as u64
            + FUNCTION_ENTRY as u64 * self.functions as u64
    }
}

/// One entry of the function table, validated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Function<'a> {
    pub name: &'a str,
    pub name_offset: u16,
    /// Byte offset into text (a multiple of 8).
    pub location: u16,
}

impl Function<'_> {
    /// Slot index of the function's first instruction.
    pub const fn slot(&self) -> usize {
        self.location as usize / 8
    }
}

/// A validated view of a `.bin` file; borrows every section from the input.
#[derive(Clone, Copy, Debug)]
pub struct Container<'a> {
    pub layout: Layout,
    pub header: Header,
    pub data: &'a [u8],
    pub rodata: &'a [u8],
    pub text: &'a [u8],
    table: &'a [u8],
}

impl<'a> Container<'a> {
    /// Validates `bytes` completely; every later accessor is infallible.
    pub fn parse(bytes: &'a [u8], choice: LayoutChoice) -> Result<Container<'a>, FormatError> {
        let layout = match choice {
            LayoutChoice::Only(layout) => layout,
            LayoutChoice::Auto => Self::pick_layout(bytes)?,
        };
        let header = Header::read(bytes, layout)
            .ok_or(FormatError::Truncated { expected: layout.header_len() as u64, actual: bytes.len() })?;
        if header.magic != MAGIC {
            return Err(FormatError::BadMagic(header.magic));
        }
        if header.version != VERSION {
            return Err(FormatError::BadVersion(header.version));
        }
        if header.flags & FLAG_COMPRESSED != 0 {
            return Err(FormatError::Compressed);
        }
        if header.flags != 0 {
            return Err(FormatError::UnknownFlags(header.flags));
        }
        let total = header.total(layout);
        if total + header.bss_len as u64 > u32::MAX as u64 {
            return Err(FormatError::LengthOverflow);
        }
        if total > bytes.len() as u64 {
            return Err(FormatError::Truncated { expected: total, actual: bytes.len() });
        }
        if total < bytes.len() as u64 {
            return Err(FormatError::TrailingBytes { expected: total, actual: bytes.len() });
        }
        if header.text_len % 8 != 0 {
            return Err(FormatError::TextNotSlots { text_len: header.text_len });
        }
        // Every length now fits in the file, so the splits below cannot fail.
        let (data, rest) = bytes[layout.header_len()..].split_at(header.data_len as usize);
        let (rodata, rest) = rest.split_at(header.rodata_len as usize);
        let (text, table) = rest.split_at(header.text_len as usize);
        let container = Container { layout, header, data, rodata, text, table };
        for i in 0..container.function_count() {
            container.read_function(i)?;
        }
        Ok(container)
    }

    fn pick_layout(bytes: &[u8]) -> Result<Layout, FormatError> {
        let fits = |layout: Layout| Header::read(bytes, layout).map(|h| h.total(layout));
        match (fits(Layout::Seed), fits(Layout::Sming32)) {
            (None, _) => Err(FormatError::Truncated { expected: 28, actual: bytes.len() }),
            (Some(_), None) => Ok(Layout::Seed),
            (Some(seed), Some(sming32)) => {
                let len = bytes.len() as u64;
                match (seed == len, sming32 == len) {
                    (true, true) => Err(FormatError::AmbiguousLayout),
                    (true, false) => Ok(Layout::Seed),
                    (false, true) => Ok(Layout::Sming32),
                    // Neither fits: report against the default layout when the
                    // verdict (short or long) is the same either way.
                    (false, false) if seed > len && sming32 > len => {
                        Err(FormatError::Truncated { expected: seed.min(sming32), actual: bytes.len() })
                    }
                    (false, false) if seed < len && sming32 < len => {
                        Err(FormatError::TrailingBytes { expected: seed.max(sming32), actual: bytes.len() })
                    }
                    (false, false) => Err(FormatError::NoLayoutFits { actual: bytes.len(), seed, sming32 }),
                }
            }
        }
    }

    pub fn function_count(&self) -> usize {
        self.header.functions as usize
    }

    /// Bytes of RAM the data region needs: the stored data plus the bss.
    pub fn data_region_len(&self) -> usize {
        self.data.len() + self.header.bss_len as usize
    }

    fn read_function(&self, index: usize) -> Result<Function<'a>, FormatError> {
        let e = &self.table[index * FUNCTION_ENTRY..(index + 1) * FUNCTION_ENTRY];
        let (name_offset, flags, location) =
            (u16::from_le_bytes([e[0], e[1]]), u16::from_le_bytes([e[2], e[3]]), u16::from_le_bytes([e[4], e[5]]));
        let function = index;
        let tail = self
            .rodata
            .get(name_offset as usize..)
            .filter(|t| !t.is_empty())
            .ok_or(FormatError::NameOutsideRodata { function, offset: name_offset })?;
        let end = tail
            .iter()
            .position(|&b| b == 0)
            .ok_or(FormatError::NameNotTerminated { function, offset: name_offset })?;
        let name = core::str::from_utf8(&tail[..end]).map_err(|_| FormatError::NameNotUtf8 { function })?;
        if flags != 0 {
            return Err(FormatError::FunctionFlags { function, flags });
        }
        if location % 8 != 0 {
            return Err(FormatError::LocationUnaligned { function, location });
        }
        if location as u32 >= self.header.text_len {
            return Err(FormatError::LocationOutsideText { function, location });
        }
        Ok(Function { name, name_offset, location })
    }

    /// The function table, in file order (validated by [`Container::parse`]).
    pub fn functions(&self) -> impl Iterator<Item = Function<'a>> + '_ {
        (0..self.function_count()).filter_map(move |i| self.read_function(i).ok())
    }

    /// The function the VM runs: the first table entry.
    pub fn entry(&self) -> Option<Function<'a>> {
        self.functions().next()
    }

    pub fn function(&self, name: &str) -> Option<Function<'a>> {
        self.functions().find(|f| f.name == name)
    }
}

#[cfg(feature = "alloc")]
pub use writer::{write, Image, WriteError};

#[cfg(feature = "alloc")]
mod writer {
    use super::*;
    use alloc::string::String;
    use alloc::vec::Vec;

    /// The sections of a container before names and padding are added.
    #[derive(Clone, Debug, Default, PartialEq, Eq)]
    pub struct Image {
        /// Initialised data; bss follows it at offset `data.len()`.
        pub data: Vec<u8>,
        pub bss_len: u32,
        /// Read-only data without the function names.
        pub rodata: Vec<u8>,
        pub text: Vec<u8>,
        /// (name, byte offset into text), in table order.
        pub functions: Vec<(String, u32)>,
    }

    #[derive(Clone, Debug, PartialEq, Eq)]
    pub enum WriteError {
        /// A name offset or location does not fit the table's `u16` fields.
        TooLarge { what: &'static str, value: usize },
        NameHasNul(String),
    }

    impl fmt::Display for WriteError {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            match self {
                WriteError::TooLarge { what, value } => {
                    write!(f, "{what} {value} does not fit the function table's 16-bit field")
                }
                WriteError::NameHasNul(n) => write!(f, "function name {n:?} contains NUL"),
            }
        }
    }

    fn pad8(v: &mut Vec<u8>) {
        v.resize(v.len().next_multiple_of(8), 0);
    }

    fn field(what: &'static str, value: usize) -> Result<u16, WriteError> {
        u16::try_from(value).map_err(|_| WriteError::TooLarge { what, value })
    }

    /// Serialises `image`: names appended to rodata before its 8-byte padding, data
    /// padded to 8; the seed layout stores bss as zeros after data.
    pub fn write(image: &Image, layout: Layout) -> Result<Vec<u8>, WriteError> {
        let mut data = image.data.clone();
        pad8(&mut data);
        let bss_len = (image.bss_len as usize).next_multiple_of(8);
        if layout == Layout::Seed {
            data.resize(data.len() + bss_len, 0);
        }
        let mut rodata = image.rodata.clone();
        let mut table = Vec::with_capacity(image.functions.len() * FUNCTION_ENTRY);
        for (name, location) in &image.functions {
            if name.as_bytes().contains(&0) {
                return Err(WriteError::NameHasNul(name.clone()));
            }
            let name_offset = field("name offset", rodata.len())?;
            rodata.extend_from_slice(name.as_bytes());
            rodata.push(0);
            table.extend_from_slice(&name_offset.to_le_bytes());
            table.extend_from_slice(&0u16.to_le_bytes());
            table.extend_from_slice(&field("function location", *location as usize)?.to_le_bytes());
        }
        pad8(&mut rodata);
        let mut header = [MAGIC, VERSION, 0, data.len() as u32].to_vec();
        if layout == Layout::Sming32 {
            header.push(bss_len as u32);
        }
        header.extend([rodata.len() as u32, image.text.len() as u32, image.functions.len() as u32]);
        let mut out: Vec<u8> = header.iter().flat_map(|w| w.to_le_bytes()).collect();
        out.extend_from_slice(&data);
        out.extend_from_slice(&rodata);
        out.extend_from_slice(&image.text);
        out.extend_from_slice(&table);
        Ok(out)
    }
}

#[cfg(all(test, feature = "alloc"))]
mod tests {
    use super::*;
    use alloc::string::ToString;
    use alloc::vec;

    fn increment() -> Image {
        Image {
            text: [0x79u8, 0x10, 0, 0, 0, 0, 0, 0, 0x07, 0, 0, 0, 1, 0, 0, 0, 0x95, 0, 0, 0, 0, 0, 0, 0].to_vec(),
            functions: vec![("increment".to_string(), 0)],
            ..Image::default()
        }
    }

    #[test]
    fn seed_layout_round_trips() {
        let bin = write(&increment(), Layout::Seed).unwrap();
        assert_eq!(bin.len(), 28 + 16 + 24 + 6);
        let c = Container::parse(&bin, LayoutChoice::Auto).unwrap();
        assert_eq!(c.layout, Layout::Seed);
        assert_eq!(c.rodata, b"increment\0\0\0\0\0\0\0");
        assert_eq!(c.entry().unwrap().name, "increment");
    }

    #[test]
    fn sming32_layout_keeps_bss_out_of_the_file() {
        let image = Image { data: vec![1, 2, 3], bss_len: 5, ..increment() };
        let bin = write(&image, Layout::Sming32).unwrap();
        let c = Container::parse(&bin, LayoutChoice::Auto).unwrap();
        assert_eq!((c.layout, c.data.len(), c.header.bss_len, c.data_region_len()), (Layout::Sming32, 8, 8, 16));
        let seed = write(&image, Layout::Seed).unwrap();
        let c = Container::parse(&seed, LayoutChoice::Auto).unwrap();
        assert_eq!((c.data.len(), c.data_region_len()), (16, 16));
    }

    #[test]
    fn malformed_files_name_the_problem() {
        let good = write(&increment(), Layout::Seed).unwrap();
        let only = LayoutChoice::Only(Layout::Seed);
        let parse = |b: &[u8]| Container::parse(b, only).unwrap_err();
        assert!(matches!(parse(&good[..good.len() - 1]), FormatError::Truncated { .. }));
        let mut long = good.clone();
        long.push(0);
        assert!(matches!(parse(&long), FormatError::TrailingBytes { .. }));
        let mut bad = good.clone();
        bad[0] = b'x';
        assert!(matches!(parse(&bad), FormatError::BadMagic(_)));
        let mut bad = good.clone();
        bad[8] = 1;
        assert_eq!(parse(&bad), FormatError::Compressed);
        let table = good.len() - 6;
        let mut bad = good.clone();
        bad[table] = 16; // name offset past rodata
        assert!(matches!(parse(&bad), FormatError::NameOutsideRodata { function: 0, .. }));
        let mut bad = good.clone();
        bad[table + 4] = 4;
        assert!(matches!(parse(&bad), FormatError::LocationUnaligned { .. }));
        let mut bad = good.clone();
        bad[table + 4] = 24;
        assert!(matches!(parse(&bad), FormatError::LocationOutsideText { .. }));
        let mut bad = good.clone();
        bad[28..44].copy_from_slice(b"incrementXXXXXXX");
        assert!(matches!(parse(&bad), FormatError::NameNotTerminated { .. }));
        let mut bad = good.clone();
        bad[12..16].copy_from_slice(&u32::MAX.to_le_bytes());
        assert_eq!(parse(&bad), FormatError::LengthOverflow);
    }
}
