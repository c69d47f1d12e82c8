//! The `input_ids` of a shard's row group read page by page, for the layout the shard stage
//! writes (no dictionary; PLAIN or BYTE_STREAM_SPLIT values; RLE levels). Parquet's column
//! reader expands every level and decodes the byte streams one byte at a time; here the
//! repetition levels are walked as runs to find where documents start, and each document's
//! ids are joined from the byte streams straight into its own buffer. This is most of an
//! export's read cost, and exports are the stage users wait on.

use parquet::basic::Encoding;
use parquet::column::page::{Page, PageReader};
use parquet::file::metadata::ColumnChunkMetaData;

use crate::levels::{self, Run};

/// Whether a column chunk is in the layout read here (else the caller uses the column reader).
pub fn supported(chunk: &ColumnChunkMetaData) -> bool {
    chunk.dictionary_page_offset().is_none()
        && chunk.encodings().all(|e| {
            matches!(
                e,
                Encoding::PLAIN | Encoding::RLE | Encoding::BYTE_STREAM_SPLIT
            )
        })
}

/// The documents of one row group's `input_ids` chunk (a list column, repetition level 1),
/// each handed to `emit` as soon as the page that ends it is read.
pub fn read_documents<E>(
    pages: Box<dyn PageReader>,
    max_def: i16,
    mut emit: impl FnMut(Vec<u32>) -> Result<(), E>,
    bad: impl Fn(String) -> E,
) -> Result<(), E> {
    let mut current: Option<Vec<u32>> = None;
    let mut starts = Vec::new();
    for page in pages {
        let page = page.map_err(|e| bad(e.to_string()))?;
        let parts = split_page(&page, max_def).map_err(&bad)?;
        document_starts(parts.rep, parts.levels, &mut starts).map_err(&bad)?;
        let values_before = values_before(parts.def, max_def, parts.levels).map_err(&bad)?;
        // Level index → value index (they differ only in pages with empty lists).
        let value_at = |level: usize| values_before.as_ref().map_or(level, |v| v[level]);
        let values =
            Values::new(parts.encoding, parts.values, value_at(parts.levels)).map_err(&bad)?;
        let mut segment_start = 0;
        for &start in starts.iter().chain(std::iter::once(&parts.levels)) {
            if start > segment_start {
                let doc = current
                    .as_mut()
                    .ok_or_else(|| bad("input_ids do not start with a document".into()))?;
                values.append(doc, value_at(segment_start), value_at(start));
            }
            if start < parts.levels {
                if let Some(done) = current.take() {
                    emit(done)?;
                }
                current = Some(Vec::new());
            }
            segment_start = start;
        }
    }
    if let Some(done) = current {
        emit(done)?;
    }
    Ok(())
}

/// A data page's levels and values, decompressed.
struct PageParts<'a> {
    levels: usize,
    rep: &'a [u8],
    def: &'a [u8],
    encoding: Encoding,
    values: &'a [u8],
}

fn split_page(page: &Page, max_def: i16) -> Result<PageParts<'_>, String> {
    match page {
        Page::DataPage {
            buf,
            num_values,
            encoding,
            def_level_encoding,
            rep_level_encoding,
            ..
        } => {
            if *rep_level_encoding != Encoding::RLE
                || (max_def > 0 && *def_level_encoding != Encoding::RLE)
            {
                return Err("input_ids levels are not RLE-encoded".into());
            }
            let (rep, rest) = length_prefixed(buf)?;
            let (def, values) = if max_def > 0 {
                length_prefixed(rest)?
            } else {
                (&rest[..0], rest)
            };
            Ok(PageParts {
                levels: *num_values as usize,
                rep,
                def,
                encoding: *encoding,
                values,
            })
        }
        Page::DataPageV2 {
            buf,
            num_values,
            encoding,
            def_levels_byte_len,
            rep_levels_byte_len,
            ..
        } => {
            let (rep_len, def_len) = (*rep_levels_byte_len as usize, *def_levels_byte_len as usize);
            let levels_end = rep_len
                .checked_add(def_len)
                .filter(|end| *end <= buf.len())
                .ok_or("input_ids levels run past their page")?;
            Ok(PageParts {
                levels: *num_values as usize,
                rep: &buf[..rep_len],
                def: &buf[rep_len..levels_end],
                encoding: *encoding,
                values: &buf[levels_end..],
            })
        }
        Page::DictionaryPage { .. } => Err("input_ids have an unexpected dictionary page".into()),
    }
}

/// A v1 page's level block: a 4-byte little-endian length, then that many bytes.
fn length_prefixed(buf: &[u8]) -> Result<(&[u8], &[u8]), String> {
    let cut = || "input_ids levels are cut short".to_string();
    let len = buf
        .get(..4)
        .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize)
        .ok_or_else(cut)?;
    let end = len
        .checked_add(4)
        .filter(|e| *e <= buf.len())
        .ok_or_else(cut)?;
    Ok((&buf[4..end], &buf[end..]))
}

/// The level indices of a page where a new document starts (repetition level 0).
fn document_starts(rep: &[u8], levels: usize, starts: &mut Vec<usize>) -> Result<(), String> {
    starts.clear();
    let mut at = 0;
    for run in levels::Runs::new(rep, 1, levels) {
        match run? {
            Run::Repeat { value, count } => {
                if value == 0 {
                    starts.extend(at..at + count);
                }
                at += count;
            }
            Run::Packed { bytes, count } => {
                for (b, byte) in bytes.iter().enumerate() {
                    if *byte == 0xFF {
                        continue;
                    }
                    let bits = (8 * b..8 * b + 8).take_while(|i| *i < count);
                    starts.extend(bits.filter(|i| byte & (1 << (i % 8)) == 0).map(|i| at + i));
                }
                at += count;
            }
        }
    }
    if at != levels {
        return Err(format!("{at} repetition levels for {levels} values"));
    }
    Ok(())
}

/// `None` when every level holds a value (one run of the maximum definition level: no empty
/// list), else for each level index how many values come before it (`levels + 1` entries).
fn values_before(def: &[u8], max_def: i16, levels: usize) -> Result<Option<Vec<usize>>, String> {
    if max_def <= 0 {
        return Ok(None);
    }
    let width = levels::bit_width(max_def);
    let mut runs = levels::Runs::new(def, width, levels);
    if let Some(Ok(Run::Repeat { value, count })) = runs.next()
        && i32::from(value) == i32::from(max_def)
        && count == levels
    {
        return Ok(None);
    }
    let mut before = Vec::with_capacity(levels + 1);
    let mut count = 0;
    before.push(count);
    for d in levels::expand(def, width, levels)? {
        count += usize::from(i32::from(d) == i32::from(max_def));
        before.push(count);
    }
    Ok(Some(before))
}

/// A page's 32-bit values.
enum Values<'a> {
    Plain(&'a [u8]),
    /// The four byte streams of BYTE_STREAM_SPLIT.
    Split([&'a [u8]; 4]),
}

impl<'a> Values<'a> {
    fn new(encoding: Encoding, bytes: &'a [u8], count: usize) -> Result<Self, String> {
        let need = count.checked_mul(4).ok_or("too many input_ids in a page")?;
        match encoding {
            Encoding::PLAIN if bytes.len() == need => Ok(Values::Plain(bytes)),
            Encoding::BYTE_STREAM_SPLIT if bytes.len() == need => Ok(Values::Split([
                &bytes[..count],
                &bytes[count..2 * count],
                &bytes[2 * count..3 * count],
                &bytes[3 * count..],
            ])),
            Encoding::PLAIN | Encoding::BYTE_STREAM_SPLIT => Err(format!(
                "a page holds {} bytes for {count} input_ids",
                bytes.len()
            )),
            other => Err(format!("input_ids are encoded as {other}")),
        }
    }

    /// Appends values `from..to` (ids are stored as int32; the cast keeps their bits).
    fn append(&self, out: &mut Vec<u32>, from: usize, to: usize) {
        match self {
            Values::Plain(bytes) => out.extend(
                bytes[4 * from..4 * to]
                    .chunks_exact(4)
                    .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]])),
            ),
            Values::Split([s0, s1, s2, s3]) => {
                let (s0, s1, s2, s3) = (&s0[from..to], &s1[from..to], &s2[from..to], &s3[from..to]);
                out.extend(
                    s0.iter()
                        .zip(s1)
                        .zip(s2)
                        .zip(s3)
                        .map(|(((a, b), c), d)| u32::from_le_bytes([*a, *b, *c, *d])),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v1_page(buf: Vec<u8>, num_values: u32, encoding: Encoding) -> Page {
        Page::DataPage {
            buf: buf.into(),
            num_values,
            encoding,
            def_level_encoding: Encoding::RLE,
            rep_level_encoding: Encoding::RLE,
            statistics: None,
        }
    }

    /// A v1 page of two documents, [7, 8] and [9], byte-stream split.
    fn two_documents() -> Vec<u8> {
        let mut buf = Vec::new();
        // Repetition levels 0,1,0 bit-packed (one group): 0b010.
        buf.extend_from_slice(&2u32.to_le_bytes());
        buf.extend_from_slice(&[(1 << 1) | 1, 0b010]);
        // Definition levels: 3 × 1.
        buf.extend_from_slice(&2u32.to_le_bytes());
        buf.extend_from_slice(&[3 << 1, 1]);
        buf.extend_from_slice(&[7, 8, 9, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        buf
    }

    fn read_pages(pages: Vec<Page>) -> Result<Vec<Vec<u32>>, String> {
        struct Pages(std::vec::IntoIter<Page>);
        impl Iterator for Pages {
            type Item = parquet::errors::Result<Page>;
            fn next(&mut self) -> Option<Self::Item> {
                self.0.next().map(Ok)
            }
        }
        impl PageReader for Pages {
            fn get_next_page(&mut self) -> parquet::errors::Result<Option<Page>> {
                Ok(self.0.next())
            }
            fn peek_next_page(
                &mut self,
            ) -> parquet::errors::Result<Option<parquet::column::page::PageMetadata>> {
                Ok(None)
            }
            fn skip_next_page(&mut self) -> parquet::errors::Result<()> {
                self.0.next();
                Ok(())
            }
        }
        let mut docs = Vec::new();
        read_documents(
            Box::new(Pages(pages.into_iter())),
            1,
            |d| {
                docs.push(d);
                Ok(())
            },
            |m| m,
        )?;
        Ok(docs)
    }

    #[test]
    fn a_hand_made_page_reads_back() {
        let page = v1_page(two_documents(), 3, Encoding::BYTE_STREAM_SPLIT);
        assert_eq!(read_pages(vec![page]), Ok(vec![vec![7, 8], vec![9]]));
    }

    #[test]
    fn bad_pages_are_errors() {
        let cases: Vec<(&str, Page)> = vec![
            (
                "values missing",
                v1_page(
                    two_documents()[..20].to_vec(),
                    3,
                    Encoding::BYTE_STREAM_SPLIT,
                ),
            ),
            (
                "levels cut short",
                v1_page(
                    two_documents()[..5].to_vec(),
                    3,
                    Encoding::BYTE_STREAM_SPLIT,
                ),
            ),
            (
                "more levels than the runs hold",
                v1_page(two_documents(), 9, Encoding::BYTE_STREAM_SPLIT),
            ),
            (
                "another value encoding",
                v1_page(two_documents(), 3, Encoding::DELTA_BINARY_PACKED),
            ),
            (
                "a dictionary page",
                Page::DictionaryPage {
                    buf: vec![0u8; 4].into(),
                    num_values: 1,
                    encoding: Encoding::PLAIN,
                    is_sorted: false,
                },
            ),
        ];
        for (name, page) in cases {
            assert!(read_pages(vec![page]).is_err(), "{name}");
        }
        // A first page that continues a document no page started.
        let mut continues = two_documents();
        continues[5] = 0b011;
        let page = v1_page(continues, 3, Encoding::BYTE_STREAM_SPLIT);
        assert_eq!(
            read_pages(vec![page]),
            Err("input_ids do not start with a document".to_string())
        );
    }
}
