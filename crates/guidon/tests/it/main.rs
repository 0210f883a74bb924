//! Acceptance tests: the real `guidon` binary, started as a process on
//! 127.0.0.1 with a free port, called over HTTP.

// Helpers: temp flag directories, a running server process, an HTTP client.
mod util;

// The evaluation API over HTTP: wire shapes, decoding leniency, errors.
mod http;

// Hot reload: edits served without restart, broken edits never served.
mod reload;

// The other subcommands and start-up behaviour: validate, eval, health,
// configuration errors, graceful shutdown.
mod cli;

// S3 storage against a real S3-compatible server (moto_server): propagation,
// conditional polls, bad uploads, outages, the last-known-good cache.
mod s3;

// Git storage against real repositories: a bare repository over file:// and
// one served by `git daemon` on 127.0.0.1.
mod git;

// Client-side snapshots (Flipt v1 and v2 paths): shape, gating, ETags.
mod snapshot;

// Real Flipt clients against Guidon (flipt-client from PyPI, ...).
mod clients;
