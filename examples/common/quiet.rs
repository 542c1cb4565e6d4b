//! Timed phases wait for a quiet machine: `BENCH_LOCKS=/a.lock:/b.lock` names lock files that
//! other CPU-heavy work (builds, tests) holds shared; the bench takes each exclusively, in order,
//! before it measures and lets go after, so loading data can overlap other work but timing cannot.
//! Unset: no waiting.

use std::fs::File;

pub struct Quiet(Vec<File>);

pub fn quiet() -> std::io::Result<Quiet> {
    let mut held = Vec::new();
    for path in std::env::var("BENCH_LOCKS").unwrap_or_default().split(':') {
        if path.is_empty() {
            continue;
        }
        let file = File::options().create(true).append(true).open(path)?;
        file.lock()?;
        held.push(file);
    }
    Ok(Quiet(held))
}

impl Drop for Quiet {
    fn drop(&mut self) {
        // Unlock in reverse order (closing the files would too; this is explicit).
        for file in self.0.iter().rev() {
            let _ = file.unlock();
        }
    }
}
