import assert from "node:assert/strict";
import { describeTlsFailure } from "../../lib/io/tls_error.ts";

/** What Deno 2.9's fetch throws: a TypeError whose cause carries the rustls reason. */
function fetchFailure(detail: string): TypeError {
  return new TypeError("fetch failed", {
    cause: new Error(
      `error sending request for url (https://127.0.0.1:1/x.wim): client error (Connect): ${detail}`,
    ),
  });
}

Deno.test("describeTlsFailure() says an unknown issuer is not trusted and how to trust a CA", () => {
  const text = describeTlsFailure(fetchFailure("invalid peer certificate: UnknownIssuer"));
  assert.match(text ?? "", /^the server's TLS certificate is not trusted/);
  assert.match(text ?? "", /DENO_CERT=\/path\/to\/ca\.pem/);
});

Deno.test("describeTlsFailure() names a certificate for another host, without the CA hint", () => {
  const text = describeTlsFailure(
    fetchFailure(
      'invalid peer certificate: certificate not valid for name "localhost"; certificate is only valid for IpAddress(127.0.0.1)',
    ),
  );
  assert.match(text ?? "", /not valid for this host name or address \(certificate not valid/);
  assert.doesNotMatch(text ?? "", /DENO_CERT/);
});

Deno.test("describeTlsFailure() reports an expired certificate", () => {
  assert.match(
    describeTlsFailure(fetchFailure("invalid peer certificate: Expired")) ?? "",
    /has expired/,
  );
});

Deno.test("describeTlsFailure() reports a DENO_CERT file that cannot be opened", () => {
  const text = describeTlsFailure(
    new TypeError("fetch failed", {
      cause: new Error("Failed opening CA file: No such file or directory (os error 2)"),
    }),
  );
  assert.equal(
    text,
    "cannot load the CA certificates named by DENO_CERT: No such file or directory (os error 2)",
  );
});

Deno.test("describeTlsFailure() leaves other network failures alone (they are retried)", () => {
  assert.equal(describeTlsFailure(fetchFailure("Connection refused (os error 111)")), undefined);
  assert.equal(describeTlsFailure(new Error("timed out")), undefined);
  assert.equal(describeTlsFailure("not an error"), undefined);
});
