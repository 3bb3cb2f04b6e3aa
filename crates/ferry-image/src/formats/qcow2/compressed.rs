//! Compressed clusters: raw deflate or zstd, exactly one cluster of output.
//! Decoder state is kept per thread so a cluster costs no allocation.
use std::cell::RefCell;

use flate2::{Compress, Compression as Level, Decompress, FlushCompress, FlushDecompress, Status};
use zstd::stream::raw::{Decoder, InBuffer, Operation, OutBuffer};

use super::header::Compression;
use crate::error::{Error, Result};

thread_local! {
    static INFLATE: RefCell<Option<Decompress>> = const { RefCell::new(None) };
    static ZSTD: RefCell<Option<Decoder<'static>>> = const { RefCell::new(None) };
    static DEFLATE: RefCell<Option<Compress>> = const { RefCell::new(None) };
}

fn bomb(host: u64, len: usize) -> Error {
    Error::corrupt(format!(
        "qcow2 compressed cluster at host offset {host:#x} decompresses to more than the cluster size ({len} bytes)"
    ))
}

fn short(host: u64, got: usize, len: usize) -> Error {
    Error::corrupt(format!(
        "qcow2 compressed cluster at host offset {host:#x} decompresses to {got} bytes, less than the cluster size ({len} bytes)"
    ))
}

/// Decompress `input` (the compressed bytes found at `host`, for messages)
/// into `out`, which must be filled exactly. More output than `out` holds is
/// a corrupt cluster (a bomb), never a bigger allocation.
pub fn decompress(kind: Compression, input: &[u8], out: &mut [u8], host: u64) -> Result<()> {
    match kind {
        Compression::Deflate => inflate(input, out, host),
        Compression::Zstd => unzstd(input, out, host),
    }
}

fn inflate(input: &[u8], out: &mut [u8], host: u64) -> Result<()> {
    INFLATE.with(|cell| {
        let mut slot = cell.borrow_mut();
        let d = slot.get_or_insert_with(|| Decompress::new(false));
        d.reset(false);
        let status = d
            .decompress(input, out, FlushDecompress::None)
            .map_err(|e| {
                Error::corrupt(format!(
                    "qcow2 compressed cluster at host offset {host:#x} is not valid deflate data"
                ))
                .with_source(e)
            })?;
        let got = d.total_out() as usize;
        if got < out.len() {
            return Err(short(host, got, out.len()));
        }
        if status != Status::StreamEnd {
            let used = d.total_in() as usize;
            let mut extra = [0u8; 1];
            let rest = input.get(used..).unwrap_or(&[]);
            if d.decompress(rest, &mut extra, FlushDecompress::None)
                .is_ok()
                && d.total_out() as usize > got
            {
                return Err(bomb(host, out.len()));
            }
        }
        Ok(())
    })
}

fn unzstd(input: &[u8], out: &mut [u8], host: u64) -> Result<()> {
    ZSTD.with(|cell| {
        let mut slot = cell.borrow_mut();
        let d = match slot.as_mut() {
            Some(d) => {
                d.reinit()
                    .map_err(|e| Error::io("cannot reset the zstd decoder", e))?;
                d
            }
            None => slot
                .insert(Decoder::new().map_err(|e| Error::io("cannot create a zstd decoder", e))?),
        };
        let bad = |e: std::io::Error| {
            Error::corrupt(format!(
                "qcow2 compressed cluster at host offset {host:#x} is not valid zstd data"
            ))
            .with_source(e)
        };
        let mut inb = InBuffer::around(input);
        let mut outb = OutBuffer::around(out);
        let mut hint = 1;
        while outb.pos() < outb.capacity() {
            let before = (inb.pos(), outb.pos());
            hint = d.run(&mut inb, &mut outb).map_err(bad)?;
            if hint == 0 || (inb.pos(), outb.pos()) == before {
                break;
            }
        }
        let got = outb.pos();
        let len = outb.capacity();
        if got < len {
            return Err(short(host, got, len));
        }
        if hint != 0 {
            let mut extra = [0u8; 1];
            let mut extra_out = OutBuffer::around(&mut extra[..]);
            let mut rest = InBuffer::around(&input[inb.pos()..]);
            if d.run(&mut rest, &mut extra_out).is_ok() && extra_out.pos() > 0 {
                return Err(bomb(host, len));
            }
        }
        Ok(())
    })
}

/// Deflate one cluster into `out`; returns the compressed length, or `None`
/// when it does not fit in `out`. Give `out` room for incompressible input
/// (input length + 1/8 + 1 KiB).
pub fn deflate(input: &[u8], out: &mut [u8]) -> Result<Option<usize>> {
    DEFLATE.with(|cell| {
        let mut slot = cell.borrow_mut();
        let c = slot.get_or_insert_with(|| Compress::new(Level::default(), false));
        c.reset();
        let status = c.compress(input, out, FlushCompress::Finish).map_err(|e| {
            Error::new(crate::error::ErrorKind::Io, "deflate failed").with_source(e)
        })?;
        if status == Status::StreamEnd && (c.total_in() as usize) == input.len() {
            Ok(Some(c.total_out() as usize))
        } else {
            Ok(None)
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deflate_round_trip() {
        let data: Vec<u8> = (0..65536u32).map(|i| (i / 300) as u8).collect();
        let mut comp = vec![0u8; 65536];
        let n = deflate(&data, &mut comp).unwrap().unwrap();
        let mut back = vec![0u8; 65536];
        decompress(Compression::Deflate, &comp[..n], &mut back, 0).unwrap();
        assert_eq!(back, data);
    }

    #[test]
    fn deflate_bomb_is_corrupt() {
        let zeros = vec![0u8; 1 << 20];
        let mut comp = vec![0u8; 1 << 20];
        let n = deflate(&zeros, &mut comp).unwrap().unwrap();
        let mut out = vec![0u8; 65536];
        let err = decompress(Compression::Deflate, &comp[..n], &mut out, 7).unwrap_err();
        assert!(
            err.to_string().contains("more than the cluster size"),
            "{err}"
        );
    }

    #[test]
    fn zstd_round_trip_and_bomb() {
        let data: Vec<u8> = (0..65536u32).map(|i| (i % 251) as u8).collect();
        let mut comp = zstd::bulk::compress(&data, 3).unwrap();
        comp.extend_from_slice(&[0u8; 300]); // sector padding after the frame
        let mut back = vec![0u8; 65536];
        decompress(Compression::Zstd, &comp, &mut back, 0).unwrap();
        assert_eq!(back, data);
        let big = zstd::bulk::compress(&vec![0u8; 1 << 20], 3).unwrap();
        let err = decompress(Compression::Zstd, &big, &mut back, 0).unwrap_err();
        assert!(
            err.to_string().contains("more than the cluster size"),
            "{err}"
        );
        let err = decompress(Compression::Zstd, &comp[..10], &mut back, 0).unwrap_err();
        assert_eq!(err.kind(), crate::error::ErrorKind::Corrupt);
    }

    #[test]
    fn garbage_is_corrupt_not_panic() {
        let mut out = vec![0u8; 4096];
        for kind in [Compression::Deflate, Compression::Zstd] {
            let err = decompress(kind, &[0xff; 64], &mut out, 0).unwrap_err();
            assert_eq!(err.kind(), crate::error::ErrorKind::Corrupt);
        }
    }
}

#[cfg(test)]
mod reuse_tests {
    use super::*;

    #[test]
    fn inflate_state_is_reusable_after_full_output_and_errors() {
        let a: Vec<u8> = (0..8192u32).map(|i| (i * 7 / 13) as u8).collect();
        let mut comp = vec![0u8; 16384];
        let n = deflate(&a, &mut comp).unwrap().unwrap();
        let mut out = vec![0u8; 8192];
        for _ in 0..3 {
            decompress(Compression::Deflate, &comp[..n], &mut out, 0).unwrap();
            assert_eq!(out, a);
            assert!(decompress(Compression::Deflate, &[0xff; 16], &mut out, 0).is_err());
            let mut big = vec![0u8; 65536];
            let m = deflate(&vec![1u8; 65536], &mut big).unwrap().unwrap();
            assert!(decompress(Compression::Deflate, &big[..m], &mut out, 0).is_err());
        }
    }
}
