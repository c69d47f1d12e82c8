//! One list column of a row group encoded as a Parquet column chunk directly: v2 data pages
//! of whole rows, levels as RLE runs (a row is two runs: its start, then the rest of it),
//! values BYTE_STREAM_SPLIT and zstd-compressed. Arrow's writer reaches the same layout through
//! a level per value, a gather of the values and a split one byte at a time; that was half of
//! the `hf` export's time before compression.

use parquet::basic::{Compression, Encoding, EncodingMask, ZstdLevel};
use parquet::column::page::{CompressedPage, Page, PageWriter};
use parquet::column::writer::ColumnCloseResult;
use parquet::file::metadata::ColumnChunkMetaData;
use parquet::file::writer::{SerializedPageWriter, TrackedWrite};
use parquet::schema::types::ColumnDescPtr;

/// Values in a page before it is cut at the next row's end: 1 MiB of int32, the page size of
/// Arrow's writer, so zstd finds the same matches.
const PAGE_VALUES: usize = 1 << 18;
/// zstd's fastest regular level: token ids compress little beyond their byte streams.
const ZSTD_LEVEL: i32 = 1;

/// A column chunk ready to append to a row group: its bytes (page headers and pages) and
/// the metadata that describes them, with offsets relative to the bytes.
pub struct EncodedChunk {
    pub bytes: bytes::Bytes,
    pub close: ColumnCloseResult,
}

/// Encodes column chunks, reusing its compressor and buffers from chunk to chunk.
pub struct ChunkEncoder {
    zstd: zstd::bulk::Compressor<'static>,
    levels: Vec<u8>,
    split: Vec<u8>,
}

impl ChunkEncoder {
    pub fn new() -> Result<Self, String> {
        Ok(Self {
            zstd: zstd::bulk::Compressor::new(ZSTD_LEVEL).map_err(|e| e.to_string())?,
            levels: Vec::new(),
            split: Vec::new(),
        })
    }

    /// The chunk of a non-null list column of non-null int32 items (`descr`): rows of
    /// `lengths`, their `values` back to back.
    pub fn encode(
        &mut self,
        descr: ColumnDescPtr,
        lengths: &[usize],
        values: &[i32],
    ) -> Result<EncodedChunk, String> {
        if descr.max_rep_level() != 1 || descr.max_def_level() != 1 {
            return Err(format!(
                "column {} is not a list of required values",
                descr.path()
            ));
        }
        if lengths.iter().sum::<usize>() != values.len() {
            return Err(format!(
                "column {}: row lengths do not add up to the values",
                descr.path()
            ));
        }
        let fail = |e: parquet::errors::ParquetError| e.to_string();
        let mut sink = TrackedWrite::new(Vec::new());
        let mut pages = SerializedPageWriter::new(&mut sink);
        let (mut row, mut value) = (0, 0);
        let (mut levels, mut uncompressed, mut compressed) = (0i64, 0i64, 0i64);
        while row < lengths.len() {
            let first_row = row;
            let mut count = 0;
            while row < lengths.len() && (row == first_row || count + lengths[row] <= PAGE_VALUES) {
                count += lengths[row];
                row += 1;
            }
            let page = self.page(&lengths[first_row..row], &values[value..value + count])?;
            value += count;
            let spec = pages.write_page(page).map_err(fail)?;
            levels += i64::from(spec.num_values);
            uncompressed += spec.uncompressed_size as i64;
            compressed += spec.compressed_size as i64;
        }
        pages.close().map_err(fail)?;
        let bytes = sink.into_inner().map_err(fail)?;
        if bytes.len() as i64 != compressed {
            return Err(format!(
                "column {}: {} bytes written for pages of {compressed}",
                descr.path(),
                bytes.len()
            ));
        }
        let metadata = ColumnChunkMetaData::builder(descr)
            .set_compression(Compression::ZSTD(
                ZstdLevel::try_new(ZSTD_LEVEL).map_err(fail)?,
            ))
            .set_encodings_mask(EncodingMask::new_from_encodings(
                [Encoding::RLE, Encoding::BYTE_STREAM_SPLIT].iter(),
            ))
            .set_num_values(levels)
            .set_total_compressed_size(compressed)
            .set_total_uncompressed_size(uncompressed)
            .set_data_page_offset(0)
            .build()
            .map_err(fail)?;
        Ok(EncodedChunk {
            close: ColumnCloseResult {
                bytes_written: bytes.len() as u64,
                rows_written: lengths.len() as u64,
                metadata,
                bloom_filter: None,
                column_index: None,
                offset_index: None,
            },
            bytes: bytes.into(),
        })
    }

    /// One v2 data page of whole rows.
    fn page(&mut self, rows: &[usize], values: &[i32]) -> Result<CompressedPage, String> {
        self.levels.clear();
        // Repetition: 0 starts a row, 1 continues it; an empty row is a single level.
        let mut rep = RleRuns::new(&mut self.levels);
        for &length in rows {
            rep.push(0, 1);
            rep.push(1, length.saturating_sub(1));
        }
        rep.finish();
        let rep_len = self.levels.len();
        // Definition: 1 where a level holds a value, 0 for an empty row.
        let mut def = RleRuns::new(&mut self.levels);
        for &length in rows {
            if length == 0 {
                def.push(0, 1);
            } else {
                def.push(1, length);
            }
        }
        def.finish();
        let def_len = self.levels.len() - rep_len;
        let empty_rows = rows.iter().filter(|l| **l == 0).count();
        let level_count = values.len() + empty_rows;

        split_streams(values, &mut self.split);
        let packed = self.zstd.compress(&self.split).map_err(|e| e.to_string())?;
        let uncompressed_size = self.levels.len() + self.split.len();
        let mut buf = Vec::with_capacity(self.levels.len() + packed.len());
        buf.extend_from_slice(&self.levels);
        buf.extend_from_slice(&packed);
        let too_many = || "a page over 2^32 levels".to_string();
        let page = Page::DataPageV2 {
            buf: buf.into(),
            num_values: u32::try_from(level_count).map_err(|_| too_many())?,
            encoding: Encoding::BYTE_STREAM_SPLIT,
            num_nulls: u32::try_from(empty_rows).map_err(|_| too_many())?,
            num_rows: u32::try_from(rows.len()).map_err(|_| too_many())?,
            def_levels_byte_len: u32::try_from(def_len).map_err(|_| too_many())?,
            rep_levels_byte_len: u32::try_from(rep_len).map_err(|_| too_many())?,
            is_compressed: true,
            statistics: None,
        };
        Ok(CompressedPage::new(page, uncompressed_size))
    }
}

/// BYTE_STREAM_SPLIT of int32 values: every value's first byte, then every second byte, ...
fn split_streams(values: &[i32], out: &mut Vec<u8>) {
    let n = values.len();
    out.clear();
    out.resize(4 * n, 0);
    let (s0, rest) = out.split_at_mut(n);
    let (s1, rest) = rest.split_at_mut(n);
    let (s2, s3) = rest.split_at_mut(n);
    for ((((v, a), b), c), d) in values.iter().zip(s0).zip(s1).zip(s2).zip(s3) {
        let [v0, v1, v2, v3] = v.to_le_bytes();
        (*a, *b, *c, *d) = (v0, v1, v2, v3);
    }
}

/// Levels of bit width 1 as RLE runs (the hybrid encoding's run form only), merging
/// neighbours of the same value.
struct RleRuns<'a> {
    out: &'a mut Vec<u8>,
    value: u8,
    count: usize,
}

impl<'a> RleRuns<'a> {
    /// Readers take a run's length as a 32-bit header with the low bit for the run kind.
    const MAX_RUN: usize = (1 << 30) - 1;

    fn new(out: &'a mut Vec<u8>) -> Self {
        Self {
            out,
            value: 0,
            count: 0,
        }
    }

    fn push(&mut self, value: u8, count: usize) {
        if count == 0 {
            return;
        }
        if value != self.value {
            self.flush();
            self.value = value;
        }
        self.count += count;
    }

    fn flush(&mut self) {
        while self.count > 0 {
            let run = self.count.min(Self::MAX_RUN);
            let mut header = (run as u64) << 1;
            while header >= 0x80 {
                self.out.push((header as u8) | 0x80);
                header >>= 7;
            }
            self.out.push(header as u8);
            self.out.push(self.value);
            self.count -= run;
        }
    }

    fn finish(mut self) {
        self.flush();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::levels;

    #[test]
    fn levels_are_two_runs_a_row_and_read_back() {
        let mut out = Vec::new();
        let mut rep = RleRuns::new(&mut out);
        for length in [3usize, 1, 1, 0, 200] {
            rep.push(0, 1);
            rep.push(1, length.saturating_sub(1));
        }
        rep.finish();
        let expanded = levels::expand(&out, 1, 3 + 1 + 1 + 1 + 200).expect("levels");
        let starts: Vec<usize> = (0..expanded.len()).filter(|i| expanded[*i] == 0).collect();
        assert_eq!(starts, vec![0, 3, 4, 5, 6]);
        // Runs: 0, 1×2, 0×4 (two one-long rows, the empty one, the last one's start), 1×199.
        assert_eq!(out, vec![2, 0, 4, 1, 8, 0, 0x8e, 0x03, 1]);
    }

    #[test]
    fn the_split_puts_each_byte_in_its_stream() {
        let mut out = Vec::new();
        split_streams(&[0x0403_0201, 0x0807_0605, -1], &mut out);
        assert_eq!(out, vec![1, 5, 0xff, 2, 6, 0xff, 3, 7, 0xff, 4, 8, 0xff]);
    }
}
