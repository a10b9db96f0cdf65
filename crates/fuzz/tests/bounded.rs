//! The fuzz targets on stable: each body runs over its seed corpus, then over a fixed
//! number of deterministic pseudo-random inputs and mutations of the seeds. Bounded (a few
//! seconds each) so CI can run it on every change: `cargo test` in host/fuzz.

/// Inputs per target (override with TOOLHOST_FUZZ_ITERATIONS for a longer local run).
fn iterations() -> usize {
    std::env::var("TOOLHOST_FUZZ_ITERATIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_000)
}

/// xorshift64*: deterministic, seedable, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    fn bytes(&mut self, max: usize) -> Vec<u8> {
        let len = self.below(max + 1);
        (0..len).map(|_| self.next() as u8).collect()
    }

    /// Flips, inserts, deletes, duplicates or splices bytes of `seed`.
    fn mutate(&mut self, seed: &[u8], dictionary: &[&[u8]]) -> Vec<u8> {
        let mut out = seed.to_vec();
        for _ in 0..1 + self.below(4) {
            let at = self.below(out.len() + 1);
            match self.below(6) {
                0 if !out.is_empty() => {
                    let i = self.below(out.len());
                    out[i] ^= 1 << self.below(8);
                }
                1 => out.insert(at, self.next() as u8),
                2 if at < out.len() => {
                    let end = (at + self.below(8)).min(out.len());
                    out.drain(at..end);
                }
                3 if at < out.len() => {
                    let end = (at + self.below(16)).min(out.len());
                    let chunk = out[at..end].to_vec();
                    out.splice(at..at, chunk);
                }
                _ => {
                    let word = dictionary[self.below(dictionary.len())];
                    out.splice(at..at, word.iter().copied());
                }
            }
        }
        out
    }
}

fn run(name: &str, seeds: &[&[u8]], dictionary: &[&[u8]], body: fn(&[u8])) {
    for seed in seeds {
        body(seed);
    }
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ name.len() as u64);
    let n = iterations();
    for i in 0..n {
        let input = if i % 3 == 0 {
            rng.bytes(256)
        } else {
            let seed = seeds[rng.below(seeds.len())];
            rng.mutate(seed, dictionary)
        };
        let outcome = std::panic::catch_unwind(|| body(&input));
        if outcome.is_err() {
            panic!(
                "{name}: input #{i} panicked; reproduce with this input:\n{:?}",
                String::from_utf8_lossy(&input)
            );
        }
    }
    eprintln!(
        "FIGURE fuzz {name}: {} seeds + {n} generated inputs, no panic",
        seeds.len()
    );
}

const JSON_WORDS: &[&[u8]] = &[
    b"{",
    b"}",
    b"[",
    b"]",
    b"\"",
    b":",
    b",",
    b"null",
    b"true",
    b"1e999",
    b"-0",
    b"\"endpointId\"",
    b"\"targets\"",
    b"\\u0000",
    b"\\ud800",
    b"9999999999999999999999",
];

#[test]
fn arguments() {
    let seeds: &[&[u8]] = &[
        b"\x00{}",
        b"\x01{\"endpointId\":\"0b7a3c1e-2d4f-4a5b-8c6d-7e8f9a0b1c2d\",\"limit\":5}",
        b"\x01{\"endpointId\":3}",
        b"\x02{\"targets\":[\"a\"],\"schedule\":{\"type\":\"at\",\"at\":\"2024-01-01T00:00:00Z\"}}",
        b"\x02{\"targets\":[],\"parameters\":{\"x\":[1]}}",
        b"\x00[1,2]",
        b"\x01{not json",
    ];
    run("arguments", seeds, JSON_WORDS, toolhost_fuzz::arguments);
}

const TOML_WORDS: &[&[u8]] = &[
    b"[",
    b"]",
    b"[[",
    b"]]",
    b"=",
    b"\"",
    b"'",
    b"\n",
    b"#",
    b"{",
    b"}",
    b"auto",
    b"approval",
    b"never",
    b"*",
    b"tool",
    b"mode",
    b"role",
    b"scope",
    b"[settings]",
    b"default_role",
    b"\"\"\"",
];

#[test]
fn policy_file() {
    let seeds: &[&[u8]] = &[
        b"",
        b"[settings]\ndefault_role = \"Technician\"\n",
        b"[tools]\n\"connectwise_rmm:cw-rmm-run-task\" = \"never\"\n\"*list*\" = \"auto\"\n",
        b"[[rule]]\ntool = \"cw-rmm-*\"\nmode = \"approval\"\n",
        b"[tools]\nx = 3\n",
    ];
    run("policy_file", seeds, TOML_WORDS, toolhost_fuzz::policy_file);
}

#[test]
fn roles_file() {
    let seeds: &[&[u8]] = &[
        b"",
        b"[roles.Technician]\ntools = [\"*\"]\n",
        b"[roles.Viewer]\ntools = [\"*list*\", \"*get*\"]\nscope = \"limited\"\n",
        b"[roles.\"\"]\n",
    ];
    run("roles_file", seeds, TOML_WORDS, toolhost_fuzz::roles_file);
}

#[test]
fn declarations() {
    let seeds: &[&[u8]] = &[b"", b"\x00\x02\x02", &[7u8; 64], &[0xffu8; 128]];
    run(
        "declarations",
        seeds,
        &[b"\x00", b"\x01", b"\x07"],
        toolhost_fuzz::declarations,
    );
}
