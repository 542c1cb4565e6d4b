# An S3-compatible server for the shared-storage tests: s3s-fs (a Rust S3 server that keeps objects
# in a folder) on 127.0.0.1:9014. It is given access keys, so it checks every request's SigV4
# signature as S3 does. Tests use the bucket below, each under a prefix of its own.
S3_PORT=9014
S3_ACCESS_KEY=webex-recordings-test
S3_SECRET_KEY=webex-recordings-test-secret
S3_BUCKET=webex-recordings-test
S3_ROOT=/tmp/webex-recordings-s3
S3S_FS="${CARGO_HOME:-$HOME/.cargo}/bin/s3s-fs"

if [ ! -x "$S3S_FS" ]; then
  log "installing s3s-fs"
  # 0.14.1: the newest release that builds with this toolchain (0.17 needs Rust 1.96).
  cargo install --locked s3s-fs --version 0.14.1 --features binary \
    || fatal "could not install s3s-fs (cargo install s3s-fs --features binary)"
fi
if ! (exec 3<>"/dev/tcp/127.0.0.1/$S3_PORT") 2>/dev/null; then
  log "starting s3s-fs on 127.0.0.1:$S3_PORT"
  mkdir -p "$S3_ROOT"
  # It outlives this run: started in its own folder (a checkout may be deleted under it, and
  # s3s-fs then fails every request) and without our open descriptors (a caller's lock file
  # would stay held as long as the server runs).
  (cd "$S3_ROOT" && exec nohup "$S3S_FS" --host 127.0.0.1 --port "$S3_PORT" \
    --access-key "$S3_ACCESS_KEY" --secret-key "$S3_SECRET_KEY" "$S3_ROOT" \
    >"$S3_ROOT.log" 2>&1 </dev/null 3>&- 4>&- 5>&- 6>&- 7>&- 8>&- 9>&-) &
fi
for _ in $(seq 1 30); do (exec 3<>"/dev/tcp/127.0.0.1/$S3_PORT") 2>/dev/null && break; sleep 1; done
(exec 3<>"/dev/tcp/127.0.0.1/$S3_PORT") 2>/dev/null \
  || fatal "s3s-fs is not listening on 127.0.0.1:$S3_PORT (log: $S3_ROOT.log)"
# CreateBucket, signed: 200 creates it, 409 means it is there already; anything else is a failure.
status=$(curl -s -o /dev/null -w '%{http_code}' -X PUT \
  --aws-sigv4 "aws:amz:us-east-1:s3" --user "$S3_ACCESS_KEY:$S3_SECRET_KEY" \
  -H "x-amz-content-sha256: e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" \
  "http://127.0.0.1:$S3_PORT/$S3_BUCKET")
case "$status" in
  200 | 409) ;;
  *) fatal "could not create the test bucket $S3_BUCKET on s3s-fs (HTTP $status)" ;;
esac
