//! Reads the tensors of a `torch.save` file (a PyTorch state_dict).
//!
//! libtorch's own loader (`tch::Tensor::loadz_multi`) rejects what
//! `torch.save(model.state_dict())` writes, because a state_dict is a
//! `collections.OrderedDict` with a `_metadata` attribute, which the C++
//! unpickler does not rebuild (pytorch/pytorch#100741; "Expected GenericDict
//! but got None"). Every torchvision checkpoint is such a file, so this module
//! reads the format itself. It is small because the format is:
//!
//! - since torch 1.6, a zip archive, entries stored uncompressed:
//!   `<name>/data.pkl` (a pickle, protocol 2), `<name>/data/<key>` (raw
//!   little-endian storages), `<name>/byteorder`;
//! - before (the "legacy" format of many torchvision checkpoints, still
//!   written with `_use_new_zipfile_serialization=False`), consecutive
//!   pickles: a magic number, the protocol version 1001, system info, the
//!   object, the list of storage keys, then each storage as its element count
//!   (8 bytes) and raw data;
//! - in the object pickle, a tensor is `torch._utils._rebuild_tensor_v2(
//!   storage, offset, size, stride, …)` where `storage` is a persistent id
//!   `("storage", torch.FloatStorage, key, location, numel[, view])`.
//!
//! The pickle machine below knows the opcodes `torch.save` emits and builds
//! dicts, lists, tuples and scalars; anything else it meets (other classes)
//! becomes an opaque value, so extra entries in a checkpoint do no harm.
//! Tensors are taken from the top-level dict, or, for training checkpoints
//! such as `{"epoch": 3, "state_dict": {…}}`, from the first nested dict
//! holding tensors. The tar format of torch < 0.4 and storage views are not
//! supported.

use std::collections::HashMap;

use tch::{Kind, Tensor};

mod zip;

use zip::{u64_at, zip_entries};

/// A value on the pickle machine's stack. Payloads that only matter for
/// error messages (via `Debug`) are otherwise unread.
#[derive(Debug, Clone)]
#[allow(dead_code)]
enum Value {
    None,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Bytes(Vec<u8>),
    Tuple(Vec<Value>),
    List(Vec<Value>),
    Dict(Vec<(Value, Value)>),
    /// A class or function named by `module`, `name`.
    Global(String, String),
    /// A storage persistent id: element kind and the zip entry key.
    Storage(Kind, String),
    /// A tensor view of a storage.
    Tensor(TensorRef),
    /// An integer too wide for `i64`, little-endian two's complement.
    BigInt(Vec<u8>),
    /// Anything else (the callable's name), kept opaque.
    Object(String),
}

/// The legacy format's magic number 0x1950a86a20f9469cfc6c, as pickle's
/// little-endian `LONG1` bytes.
const LEGACY_MAGIC: [u8; 10] = [0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19];

#[derive(Debug, Clone)]
struct TensorRef {
    kind: Kind,
    key: String,
    offset: i64,
    size: Vec<i64>,
    stride: Vec<i64>,
}

/// Reads all named tensors from the bytes of a `torch.save` file.
pub(crate) fn read(bytes: &[u8]) -> Result<Vec<(String, Tensor)>, String> {
    if bytes.starts_with(b"PK\x03\x04") {
        read_zip(bytes)
    } else {
        read_legacy(bytes)
    }
}

/// The zip format (torch ≥ 1.6).
fn read_zip(bytes: &[u8]) -> Result<Vec<(String, Tensor)>, String> {
    let entries = zip_entries(bytes)?;
    let pkl_name = entries
        .keys()
        .filter(|name| name.ends_with("data.pkl"))
        .min_by_key(|name| name.len())
        .ok_or("not a torch.save zip archive (no data.pkl)")?
        .clone();
    let prefix = &pkl_name[..pkl_name.len() - "data.pkl".len()];
    if let Some(order) = entries.get(&format!("{prefix}byteorder"))
        && order.trim_ascii() != b"little"
    {
        let order = String::from_utf8_lossy(order);
        return Err(format!("byte order {order:?} is not supported"));
    }
    let root = Unpickler::new(entries[&pkl_name]).run()?;
    build_tensors(&root, |key| {
        entries.get(&format!("{prefix}data/{key}")).copied()
    })
}

/// The legacy format (`_use_new_zipfile_serialization=False`).
fn read_legacy(bytes: &[u8]) -> Result<Vec<(String, Tensor)>, String> {
    let not_torch = "neither a zip archive nor a legacy torch.save file";
    let mut pickles = Unpickler::new(bytes);
    match pickles.run() {
        Ok(Value::BigInt(magic)) if magic == LEGACY_MAGIC => {}
        _ => return Err(not_torch.to_string()),
    }
    match pickles.run()? {
        Value::Int(1001) => {}
        other => return Err(format!("unsupported legacy protocol version {other:?}")),
    }
    if let Value::Dict(info) = pickles.run()? {
        let little = info
            .iter()
            .find(|(k, _)| matches!(k, Value::Str(k) if k == "little_endian"));
        if let Some((_, Value::Bool(false))) = little {
            return Err("big-endian files are not supported".to_string());
        }
    }
    let root = pickles.run()?;
    let Value::List(keys) = pickles.run()? else {
        return Err("legacy file without a storage key list".to_string());
    };
    // The storages follow, in key order: element count (i64), then the data.
    let mut data: HashMap<String, &[u8]> = HashMap::new();
    let mut pos = pickles.pos;
    for key in keys {
        let Value::Str(key) = key else {
            return Err(format!("storage key {key:?}"));
        };
        let kind = *pickles
            .storage_kinds
            .get(&key)
            .ok_or_else(|| format!("storage {key} has no type"))?;
        let count = u64_at(bytes, pos).map_err(|_| format!("storage {key} is truncated"))? as usize;
        let len = count * kind.elt_size_in_bytes();
        let slice = bytes
            .get(pos + 8..pos + 8 + len)
            .ok_or_else(|| format!("storage {key} is truncated"))?;
        data.insert(key, slice);
        pos += 8 + len;
    }
    build_tensors(&root, |key| data.get(key).copied())
}

/// The named tensors of the pickled object, with storage bytes from `storage(key)`.
fn build_tensors<'a>(
    root: &Value,
    storage: impl Fn(&str) -> Option<&'a [u8]>,
) -> Result<Vec<(String, Tensor)>, String> {
    let dict = tensor_dict(root).ok_or("the pickle holds no dict of tensors")?;
    let mut storages: HashMap<String, Tensor> = HashMap::new();
    let mut out = Vec::new();
    for (name, value) in dict {
        let (Value::Str(name), Value::Tensor(t)) = (name, value) else {
            continue;
        };
        if !storages.contains_key(&t.key) {
            let data =
                storage(&t.key).ok_or_else(|| format!("storage {} of {name} is missing", t.key))?;
            let elem = t.kind.elt_size_in_bytes();
            let flat = Tensor::f_from_data_size(data, &[(data.len() / elem) as i64], t.kind)
                .map_err(|e| format!("storage of {name}: {e}"))?;
            storages.insert(t.key.clone(), flat);
        }
        let tensor = storages[&t.key]
            .f_as_strided(&t.size, &t.stride, t.offset)
            .and_then(|v| v.f_contiguous())
            .map_err(|e| format!("tensor {name}: {e}"))?;
        out.push((name.clone(), tensor));
    }
    Ok(out)
}

/// The dict of tensors: the top level, or a nested dict (training checkpoints).
fn tensor_dict(value: &Value) -> Option<&Vec<(Value, Value)>> {
    let Value::Dict(items) = value else {
        return None;
    };
    if items.iter().any(|(_, v)| matches!(v, Value::Tensor(_))) {
        return Some(items);
    }
    items.iter().find_map(|(_, v)| tensor_dict(v))
}

/// A pickle machine for the opcodes of protocols 2–4 that `torch.save` uses.
struct Unpickler<'a> {
    data: &'a [u8],
    pos: usize,
    stack: Vec<Value>,
    marks: Vec<usize>,
    memo: HashMap<u64, Value>,
    /// Element kind of every storage key met in persistent ids.
    storage_kinds: HashMap<String, Kind>,
}

impl<'a> Unpickler<'a> {
    fn new(data: &'a [u8]) -> Self {
        Unpickler {
            data,
            pos: 0,
            stack: Vec::new(),
            marks: Vec::new(),
            memo: HashMap::new(),
            storage_kinds: HashMap::new(),
        }
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        let s = self
            .data
            .get(self.pos..self.pos + n)
            .ok_or("truncated pickle")?;
        self.pos += n;
        Ok(s)
    }
    fn u8(&mut self) -> Result<u8, String> {
        Ok(self.take(1)?[0])
    }
    fn u16(&mut self) -> Result<u16, String> {
        let s = self.take(2)?;
        Ok(u16::from_le_bytes([s[0], s[1]]))
    }
    fn u32(&mut self) -> Result<u32, String> {
        let s = self.take(4)?;
        Ok(u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
    }
    fn u64(&mut self) -> Result<u64, String> {
        u64_at(self.take(8)?, 0)
    }
    fn line(&mut self) -> Result<String, String> {
        let end = self.data[self.pos..]
            .iter()
            .position(|&c| c == b'\n')
            .ok_or("truncated pickle")?;
        let s = String::from_utf8_lossy(self.take(end)?).into_owned();
        self.pos += 1;
        Ok(s)
    }
    fn text(&mut self, n: usize) -> Result<Value, String> {
        Ok(Value::Str(
            String::from_utf8_lossy(self.take(n)?).into_owned(),
        ))
    }
    fn pop(&mut self) -> Result<Value, String> {
        self.stack
            .pop()
            .ok_or_else(|| "pickle stack underflow".to_string())
    }
    fn pop_mark(&mut self) -> Result<Vec<Value>, String> {
        let mark = self.marks.pop().ok_or("pickle mark missing")?;
        if mark > self.stack.len() {
            return Err("pickle mark beyond stack".to_string());
        }
        Ok(self.stack.split_off(mark))
    }
    fn top(&mut self) -> Result<&mut Value, String> {
        self.stack
            .last_mut()
            .ok_or_else(|| "pickle stack underflow".to_string())
    }
    fn memo_get(&self, index: u64) -> Result<Value, String> {
        self.memo
            .get(&index)
            .cloned()
            .ok_or_else(|| format!("pickle memo {index} unset"))
    }

    /// Runs to `STOP` and returns the pickled object.
    fn run(&mut self) -> Result<Value, String> {
        // Each pickle of a file has its own stack and memo.
        self.stack.clear();
        self.marks.clear();
        self.memo.clear();
        loop {
            let at = self.pos;
            let op = self.u8()?;
            let value = match op {
                0x80 => {
                    self.u8()?; // PROTO
                    continue;
                }
                0x95 => {
                    self.u64()?; // FRAME
                    continue;
                }
                b'.' => return self.pop(),
                b'(' => {
                    self.marks.push(self.stack.len());
                    continue;
                }
                b'N' => Value::None,
                0x88 => Value::Bool(true),
                0x89 => Value::Bool(false),
                b'J' => Value::Int(self.u32()? as i32 as i64),
                b'K' => Value::Int(self.u8()? as i64),
                b'M' => Value::Int(self.u16()? as i64),
                0x8a => {
                    let n = self.u8()? as usize;
                    let bytes = self.take(n)?;
                    if n > 8 {
                        self.stack.push(Value::BigInt(bytes.to_vec()));
                        continue;
                    }
                    let mut v: i64 = if bytes.last().is_some_and(|b| b & 0x80 != 0) {
                        -1
                    } else {
                        0
                    };
                    for &byte in bytes.iter().rev() {
                        v = (v << 8) | byte as i64;
                    }
                    Value::Int(v)
                }
                b'G' => {
                    let s = self.take(8)?;
                    Value::Float(f64::from_be_bytes([
                        s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7],
                    ]))
                }
                b'X' | b'T' => {
                    let n = self.u32()? as usize;
                    self.text(n)?
                }
                0x8c | b'U' => {
                    let n = self.u8()? as usize;
                    self.text(n)?
                }
                0x8d => {
                    let n = self.u64()? as usize;
                    self.text(n)?
                }
                b'B' | b'C' => {
                    let n = if op == b'B' {
                        self.u32()? as usize
                    } else {
                        self.u8()? as usize
                    };
                    Value::Bytes(self.take(n)?.to_vec())
                }
                b')' => Value::Tuple(Vec::new()),
                b't' => Value::Tuple(self.pop_mark()?),
                0x85..=0x87 => {
                    let n = (op - 0x84) as usize;
                    let at = self
                        .stack
                        .len()
                        .checked_sub(n)
                        .ok_or("pickle stack underflow")?;
                    Value::Tuple(self.stack.split_off(at))
                }
                b']' => Value::List(Vec::new()),
                b'l' => Value::List(self.pop_mark()?),
                b'}' => Value::Dict(Vec::new()),
                b'd' => Value::Dict(pairs(self.pop_mark()?)),
                b'a' => {
                    let v = self.pop()?;
                    if let Value::List(items) = self.top()? {
                        items.push(v);
                    }
                    continue;
                }
                b'e' => {
                    let vs = self.pop_mark()?;
                    if let Value::List(items) = self.top()? {
                        items.extend(vs);
                    }
                    continue;
                }
                b's' => {
                    let v = self.pop()?;
                    let k = self.pop()?;
                    if let Value::Dict(items) = self.top()? {
                        items.push((k, v));
                    }
                    continue;
                }
                b'u' => {
                    let kvs = pairs(self.pop_mark()?);
                    if let Value::Dict(items) = self.top()? {
                        items.extend(kvs);
                    }
                    continue;
                }
                b'c' => {
                    let module = self.line()?;
                    Value::Global(module, self.line()?)
                }
                0x93 => {
                    let (Value::Str(name), Value::Str(module)) = (self.pop()?, self.pop()?) else {
                        return Err("STACK_GLOBAL without strings".to_string());
                    };
                    Value::Global(module, name)
                }
                b'q' => {
                    let i = self.u8()? as u64;
                    let v = self.top()?.clone();
                    self.memo.insert(i, v);
                    continue;
                }
                b'r' => {
                    let i = self.u32()? as u64;
                    let v = self.top()?.clone();
                    self.memo.insert(i, v);
                    continue;
                }
                0x94 => {
                    let i = self.memo.len() as u64;
                    let v = self.top()?.clone();
                    self.memo.insert(i, v);
                    continue;
                }
                b'h' => {
                    let i = self.u8()? as u64;
                    self.memo_get(i)?
                }
                b'j' => {
                    let i = self.u32()? as u64;
                    self.memo_get(i)?
                }
                b'0' => {
                    self.pop()?;
                    continue;
                }
                b'1' => {
                    self.pop_mark()?;
                    continue;
                }
                b'2' => self.top()?.clone(),
                b'Q' => {
                    let pid = self.pop()?;
                    let storage = persistent_load(pid)?;
                    if let Value::Storage(kind, key) = &storage {
                        self.storage_kinds.insert(key.clone(), *kind);
                    }
                    storage
                }
                b'R' | 0x81 => {
                    let args = self.pop()?;
                    let callable = self.pop()?;
                    call(callable, args)?
                }
                b'b' => {
                    self.pop()?; // BUILD: object state (a state_dict's `_metadata`), not needed
                    continue;
                }
                _ => return Err(format!("unsupported pickle opcode 0x{op:02x} at byte {at}")),
            };
            self.stack.push(value);
        }
    }
}

fn pairs(items: Vec<Value>) -> Vec<(Value, Value)> {
    let mut it = items.into_iter();
    let mut out = Vec::new();
    while let (Some(k), Some(v)) = (it.next(), it.next()) {
        out.push((k, v));
    }
    out
}

fn ints(value: &Value) -> Option<Vec<i64>> {
    let Value::Tuple(items) = value else {
        return None;
    };
    items
        .iter()
        .map(|v| {
            if let Value::Int(i) = v {
                Some(*i)
            } else {
                None
            }
        })
        .collect()
}

/// `("storage", torch.<Kind>Storage, key, location, numel)` → a storage.
fn persistent_load(pid: Value) -> Result<Value, String> {
    let Value::Tuple(items) = &pid else {
        return Err(format!("unexpected persistent id {pid:?}"));
    };
    let (Some(Value::Global(_, class)), Some(Value::Str(key))) = (items.get(1), items.get(2))
    else {
        return Err(format!("unexpected persistent id {pid:?}"));
    };
    // Legacy files may add a view of another storage (torch < 0.4).
    if items
        .get(5)
        .is_some_and(|view| !matches!(view, Value::None))
    {
        return Err(format!("storage views are not supported (storage {key})"));
    }
    let kind = match class.as_str() {
        "FloatStorage" => Kind::Float,
        "DoubleStorage" => Kind::Double,
        "HalfStorage" => Kind::Half,
        "BFloat16Storage" => Kind::BFloat16,
        "LongStorage" => Kind::Int64,
        "IntStorage" => Kind::Int,
        "ShortStorage" => Kind::Int16,
        "CharStorage" => Kind::Int8,
        "ByteStorage" => Kind::Uint8,
        "BoolStorage" => Kind::Bool,
        other => return Err(format!("unsupported storage type {other}")),
    };
    Ok(Value::Storage(kind, key.clone()))
}

/// `REDUCE`: the few callables a state_dict needs; the rest stay opaque.
fn call(callable: Value, args: Value) -> Result<Value, String> {
    let Value::Global(module, name) = &callable else {
        return Ok(Value::Object(String::new()));
    };
    let args = match args {
        Value::Tuple(items) => items,
        other => vec![other],
    };
    Ok(match (module.as_str(), name.as_str()) {
        ("collections", "OrderedDict") => match args.first() {
            Some(Value::List(items)) => Value::Dict(
                items
                    .iter()
                    .filter_map(|kv| match kv {
                        Value::Tuple(p) if p.len() == 2 => Some((p[0].clone(), p[1].clone())),
                        _ => None,
                    })
                    .collect(),
            ),
            _ => Value::Dict(Vec::new()),
        },
        ("torch._utils", "_rebuild_tensor_v2" | "_rebuild_tensor") => {
            let (
                Some(Value::Storage(kind, key)),
                Some(Value::Int(offset)),
                Some(size),
                Some(stride),
            ) = (
                args.first(),
                args.get(1),
                args.get(2).and_then(ints),
                args.get(3).and_then(ints),
            )
            else {
                return Err(format!("unexpected arguments to {module}.{name}"));
            };
            Value::Tensor(TensorRef {
                kind: *kind,
                key: key.clone(),
                offset: *offset,
                size,
                stride,
            })
        }
        ("torch._utils", "_rebuild_parameter" | "_rebuild_parameter_with_state") => {
            args.into_iter().next().unwrap_or(Value::None)
        }
        _ => Value::Object(format!("{module}.{name}")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_a_hand_written_pickle() {
        // {'a': (1, -2, 300), 'b': [True, None, 1.5]} with memo use, protocol 2.
        let mut p = vec![
            0x80, 2, b'}', b'q', 0, b'(', b'X', 1, 0, 0, 0, b'a', b'K', 1, b'J',
        ];
        p.extend((-2i32).to_le_bytes());
        p.extend([
            b'M', 44, 1, 0x87, b'X', 1, 0, 0, 0, b'b', b']', b'(', 0x88, b'N', b'G',
        ]);
        p.extend(1.5f64.to_be_bytes());
        p.extend([b'e', b'u', b'.']);
        let Value::Dict(items) = Unpickler::new(&p).run().unwrap() else {
            panic!("not a dict")
        };
        assert_eq!(items.len(), 2);
        assert_eq!(ints(&items[0].1), Some(vec![1, -2, 300]));
        assert!(matches!(&items[1].1, Value::List(l) if l.len() == 3));
    }

    #[test]
    fn rejects_what_it_cannot_read() {
        assert!(read(b"not a zip").unwrap_err().contains("neither a zip"));
        let err = Unpickler::new(&[0x80, 2, 0xff]).run().unwrap_err();
        assert!(err.contains("0xff"), "{err}");
        assert!(Unpickler::new(&[0x80, 2, b'K']).run().is_err());
    }

    #[test]
    fn long1_is_little_endian_twos_complement() {
        let p = [0x8a, 2, 0x00, 0xff, b'.'];
        assert!(matches!(
            Unpickler::new(&p).run().unwrap(),
            Value::Int(-256)
        ));
    }
}
