//! A real RFC 3161 Time-Stamping Authority for tests: OpenSSL's `ts` (Debian's
//! `openssl`, installed by `deploy/scripts/install-tools.sh`), with a CA and a TSA
//! certificate generated in a temporary directory at test time (no key is committed).
//!
//! Standard library only, so `schemas/tests/timestamp.rs` includes this file too
//! (`#[path]`): the schemas crate's verifier and the relayer tests use the same TSA.

#![allow(clippy::unwrap_used, clippy::expect_used, unreachable_pub, dead_code)]

use std::{
    fs,
    path::{Path, PathBuf},
    process::Command,
};

/// How to make the TSA's certificate.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TsaOptions {
    /// RSA-2048 keys instead of EC P-256.
    pub rsa: bool,
    /// The TSA certificate expired in 2020 (OpenSSL still signs with it).
    pub expired: bool,
    /// The TSA certificate lacks extendedKeyUsage timeStamping (OpenSSL refuses to sign
    /// with it, so such a TSA cannot be run; kept for certificate-only checks).
    pub no_eku: bool,
}

/// A CA, a TSA certificate it issued, and OpenSSL's `ts -reply` configuration.
#[derive(Debug, Clone)]
pub struct OpensslTsa {
    /// The directory holding every file.
    pub dir: PathBuf,
    /// The CA (root) certificate, PEM.
    pub ca_cert: PathBuf,
    /// The TSA certificate, PEM.
    pub tsa_cert: PathBuf,
    config: PathBuf,
}

/// Runs `openssl ARGS` in `dir`; panics with its stderr when it fails.
pub fn openssl(dir: &Path, args: &[&str]) -> Vec<u8> {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| {
            panic!("cannot run `openssl` ({e}): install it with `bash deploy/scripts/install-tools.sh` (Debian package openssl)")
        });
    assert!(
        out.status.success(),
        "openssl {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

impl OpensslTsa {
    /// Creates the CA `CN=<name> Root` and the TSA `CN=<name>` in `dir`.
    pub fn create(dir: &Path, name: &str, options: TsaOptions) -> Self {
        fs::create_dir_all(dir).unwrap();
        let key = |file: &str| {
            if options.rsa {
                openssl(
                    dir,
                    &[
                        "genpkey",
                        "-algorithm",
                        "RSA",
                        "-pkeyopt",
                        "rsa_keygen_bits:2048",
                        "-out",
                        file,
                    ],
                );
            } else {
                openssl(
                    dir,
                    &[
                        "genpkey",
                        "-algorithm",
                        "EC",
                        "-pkeyopt",
                        "ec_paramgen_curve:P-256",
                        "-out",
                        file,
                    ],
                );
            }
        };
        key("ca.key");
        key("tsa.key");
        let ca_subject = format!("/O=Evidence Bridge tests/CN={name} Root");
        openssl(
            dir,
            &[
                "req",
                "-x509",
                "-new",
                "-key",
                "ca.key",
                "-out",
                "ca.crt",
                "-days",
                "3650",
                "-subj",
                &ca_subject,
                "-addext",
                "basicConstraints=critical,CA:TRUE",
                "-addext",
                "keyUsage=critical,keyCertSign,cRLSign",
            ],
        );
        let tsa_subject = format!("/O=Evidence Bridge tests/CN={name}");
        openssl(
            dir,
            &[
                "req",
                "-new",
                "-key",
                "tsa.key",
                "-out",
                "tsa.csr",
                "-subj",
                &tsa_subject,
            ],
        );
        let eku = if options.no_eku {
            ""
        } else {
            "extendedKeyUsage = critical, timeStamping\n"
        };
        let (start, end) = if options.expired {
            ("20200101000000Z", "20200201000000Z")
        } else {
            ("20240101000000Z", "20991231000000Z")
        };
        fs::write(dir.join("index.txt"), "").unwrap();
        fs::write(dir.join("ca.serial"), "1000\n").unwrap();
        fs::write(dir.join("tsaserial"), "01\n").unwrap();
        fs::write(
            dir.join("openssl.cnf"),
            format!(
                "[ ca ]\ndefault_ca = test_ca\n\
                 [ test_ca ]\ndir = .\ndatabase = index.txt\nnew_certs_dir = .\nserial = ca.serial\n\
                 certificate = ca.crt\nprivate_key = ca.key\ndefault_md = sha256\npolicy = any\n\
                 unique_subject = no\nx509_extensions = tsa_ext\n\
                 [ any ]\ncommonName = supplied\norganizationName = optional\n\
                 [ tsa_ext ]\nbasicConstraints = critical, CA:FALSE\nkeyUsage = critical, digitalSignature\n{eku}\
                 [ tsa ]\ndefault_tsa = tsa_config\n\
                 [ tsa_config ]\ndir = .\nserial = tsaserial\ncrypto_device = builtin\nsigner_cert = tsa.crt\n\
                 certs = ca.crt\nsigner_key = tsa.key\nsigner_digest = sha256\ndefault_policy = 1.3.6.1.4.1.99999.1\n\
                 digests = sha256\naccuracy = secs:1\nordering = no\ntsa_name = yes\ness_cert_id_chain = no\n\
                 ess_cert_id_alg = sha256\n"
            ),
        )
        .unwrap();
        openssl(
            dir,
            &[
                "ca",
                "-batch",
                "-config",
                "openssl.cnf",
                "-in",
                "tsa.csr",
                "-out",
                "tsa.crt",
                "-notext",
                "-startdate",
                start,
                "-enddate",
                end,
            ],
        );
        Self {
            dir: dir.to_owned(),
            ca_cert: dir.join("ca.crt"),
            tsa_cert: dir.join("tsa.crt"),
            config: dir.join("openssl.cnf"),
        }
    }

    /// The CA certificate's PEM text.
    pub fn ca_pem(&self) -> String {
        fs::read_to_string(&self.ca_cert).unwrap()
    }

    /// The DER `TimeStampResp` OpenSSL's TSA gives for the DER `TimeStampReq` `query`.
    pub fn reply(&self, query: &[u8]) -> Vec<u8> {
        let q = self.dir.join(format!("query-{}.tsq", std::process::id()));
        fs::write(&q, query).unwrap();
        let q = q.to_string_lossy().into_owned();
        openssl(
            &self.dir,
            &[
                "ts",
                "-reply",
                "-config",
                &self.config.to_string_lossy(),
                "-queryfile",
                &q,
            ],
        )
    }

    /// A DER `TimeStampReq` made by OpenSSL itself over the file `data` (SHA-256, a
    /// random nonce, certReq).
    pub fn openssl_query(&self, data: &Path) -> Vec<u8> {
        openssl(
            &self.dir,
            &[
                "ts",
                "-query",
                "-data",
                &data.to_string_lossy(),
                "-sha256",
                "-cert",
            ],
        )
    }
}

/// `openssl ts -verify` of the DER token `token` over the bytes `data` against the CA
/// `ca_cert`: `Ok(())` when OpenSSL accepts it, its output otherwise.
pub fn openssl_verify_token(
    work: &Path,
    token: &[u8],
    data: &[u8],
    ca_cert: &Path,
) -> Result<(), String> {
    fs::create_dir_all(work).map_err(|e| e.to_string())?;
    let (t, d) = (work.join("token.der"), work.join("data.bin"));
    fs::write(&t, token).map_err(|e| e.to_string())?;
    fs::write(&d, data).map_err(|e| e.to_string())?;
    let out = Command::new("openssl")
        .args(["ts", "-verify", "-token_in", "-in"])
        .arg(&t)
        .arg("-data")
        .arg(&d)
        .arg("-CAfile")
        .arg(ca_cert)
        .output()
        .map_err(|e| format!("cannot run openssl ({e}); run deploy/scripts/install-tools.sh"))?;
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    if out.status.success() && text.contains("Verification: OK") {
        Ok(())
    } else {
        Err(text)
    }
}
