//! `rbpf-dump`: the seed's text dump of a container, and the same facts as JSON.

use std::fmt::Write;

use fc_runtime::format::{Container, Layout};
use fc_runtime::insn::{self, Decoder, SLOT};
use serde_json::{json, Value};

/// One line of the text section: an instruction or a slot that does not decode.
struct Row<'a> {
    pc: usize,
    bytes: &'a [u8],
    /// `None` when the slot is invalid.
    text: Option<String>,
}

fn rows<'a>(c: &Container<'a>) -> Vec<Row<'a>> {
    let names = |slot: usize| c.functions().find(|f| f.slot() == slot).map(|f| f.name);
    Decoder::new(c.text)
        .map(|r| match r {
            Ok(i) => Row {
                pc: i.pc,
                bytes: &c.text[i.pc * SLOT..(i.pc + i.op.slots()) * SLOT],
                text: Some(i.op.display(i.pc, &names).to_string()),
            },
            Err(e) => Row { pc: e.pc, bytes: &c.text[e.pc * SLOT..(e.pc + 1) * SLOT], text: None },
        })
        .collect()
}

fn hex_pairs(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect::<Vec<_>>().join(" ")
}

fn byte_rows(out: &mut String, bytes: &[u8]) {
    for (i, chunk) in bytes.chunks(8).enumerate() {
        let cells: Vec<String> = chunk.iter().map(|b| format!("0x{b:02x}")).collect();
        let _ = writeln!(out, "{:>5}: {}", format!("{:x}", i * 8), cells.join(" "));
    }
}

/// The dump text exactly as the seed shows it (tabs included).
pub fn text(c: &Container) -> String {
    let h = &c.header;
    let mut out = String::new();
    let _ = writeln!(out, "Magic:\t\t0x{:08x}", h.magic);
    let _ = writeln!(out, "Version:\t{}", h.version);
    let _ = writeln!(out, "flags:\t0x{:x}", h.flags);
    let _ = writeln!(out, "Data length:\t{} B", h.data_len);
    if c.layout == Layout::Sming32 {
        let _ = writeln!(out, "BSS length:\t{} B", h.bss_len);
    }
    let _ = writeln!(out, "RoData length:\t{} B", h.rodata_len);
    let _ = writeln!(out, "Text length:\t{} B", h.text_len);
    let _ = writeln!(out, "No. functions:\t{}", h.functions);
    out.push_str("\nfunctions:\n");
    for f in c.functions() {
        let _ = writeln!(out, "\t\"{}\": 0x{:x}", f.name, f.location);
    }
    out.push_str("\ndata:\n");
    byte_rows(&mut out, c.data);
    out.push_str("\nrodata:\n");
    byte_rows(&mut out, c.rodata);
    out.push_str("\ntext:\n");
    for row in rows(c) {
        for f in c.functions().filter(|f| f.slot() == row.pc) {
            let _ = writeln!(out, "<{}>", f.name);
        }
        let addr = format!("0x{:x}", row.pc * SLOT);
        let text = row.text.as_deref().unwrap_or("<invalid>");
        let _ = writeln!(out, "{addr:>7}:\t{} {text}", hex_pairs(row.bytes));
    }
    out
}

/// The same facts as [`text`], as a JSON value.
pub fn json(file: &str, c: &Container) -> Value {
    let h = &c.header;
    let instructions: Vec<Value> = rows(c)
        .into_iter()
        .map(|r| {
            let function = c.functions().find(|f| f.slot() == r.pc).map(|f| f.name);
            json!({
                "pc": r.pc,
                "offset": r.pc * SLOT,
                "bytes": hex_pairs(r.bytes),
                "valid": r.text.is_some(),
                "text": r.text.unwrap_or_else(|| "<invalid>".into()),
                "error": insn::decode(c.text, r.pc).err().map(|e| e.kind.to_string()),
                "function": function,
            })
        })
        .collect();
    json!({
        "file": file,
        "layout": c.layout.name(),
        "magic": h.magic,
        "version": h.version,
        "flags": h.flags,
        "data_length": h.data_len,
        "bss_length": h.bss_len,
        "rodata_length": h.rodata_len,
        "text_length": h.text_len,
        "functions": c.functions().map(|f| json!({"name": f.name, "location": f.location})).collect::<Vec<_>>(),
        "data": c.data,
        "rodata": c.rodata,
        "text": instructions,
    })
}
