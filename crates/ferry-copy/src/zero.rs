//! Cheap all-zero detection: OR words together and stop at the first
//! non-zero group, so data blocks usually cost one cache line.

/// True when every byte of `buf` is zero.
pub fn is_zero(buf: &[u8]) -> bool {
    const GROUP: usize = 64;
    let mut groups = buf.chunks_exact(GROUP);
    for g in &mut groups {
        let mut acc = 0u64;
        for w in g.chunks_exact(8) {
            let mut word = [0u8; 8];
            word.copy_from_slice(w);
            acc |= u64::from_ne_bytes(word);
        }
        if acc != 0 {
            return false;
        }
    }
    groups.remainder().iter().all(|&b| b == 0)
}

/// Split `buf` into maximal runs of `block`-sized pieces that are all zero
/// or not; calls `f(start, end, zero)` for each run, in order.
pub fn for_each_run(buf: &[u8], block: usize, mut f: impl FnMut(usize, usize, bool)) {
    let block = block.max(1);
    let mut run_start = 0;
    let mut run_zero = None;
    let mut pos = 0;
    while pos < buf.len() {
        let end = (pos + block).min(buf.len());
        let z = is_zero(&buf[pos..end]);
        match run_zero {
            Some(rz) if rz != z => {
                f(run_start, pos, rz);
                run_start = pos;
                run_zero = Some(z);
            }
            None => run_zero = Some(z),
            _ => {}
        }
        pos = end;
    }
    if let Some(rz) = run_zero {
        f(run_start, buf.len(), rz);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn is_zero_finds_a_single_set_byte_anywhere() {
        let mut buf = vec![0u8; 4099];
        assert!(is_zero(&buf));
        for i in [0, 7, 63, 64, 4095, 4098] {
            buf[i] = 1;
            assert!(!is_zero(&buf), "byte {i}");
            buf[i] = 0;
        }
        assert!(is_zero(&[]));
    }

    #[test]
    fn runs_alternate_and_cover_the_buffer() {
        let mut buf = vec![0u8; 10 * 4096 + 100];
        buf[4096 * 2] = 1;
        buf[4096 * 3 + 5] = 1;
        buf[10 * 4096 + 99] = 1;
        let mut runs = Vec::new();
        for_each_run(&buf, 4096, |a, b, z| runs.push((a, b, z)));
        assert_eq!(
            runs,
            vec![
                (0, 8192, true),
                (8192, 16384, false),
                (16384, 40960, true),
                (40960, 41060, false)
            ]
        );
    }
}
