/**
 * Reading WIMs over HTTPS from a real nginx with a throwaway CA made by `openssl`: the CLI trusts
 * the CA through `DENO_CERT` and reads as over HTTP; without it, it fails at once with one line
 * that says the certificate is not trusted and how to trust a private CA.
 */

import { hasOpenssl } from "../support/tools.ts";
import assert from "node:assert/strict";
import { applyImage, Wim } from "../../mod.ts";
import { compareTrees } from "../support/tree_compare.ts";
import { makeTree } from "../support/trees.ts";
import { hasWimlib, run, tempDir, wimkitCli, wimlib } from "../support/wimlib.ts";
import { hasNginx, startNginx } from "../support/nginx.ts";

const ignore = !hasWimlib || !hasNginx || !hasOpenssl;

/** PEM files of a throwaway CA and a server certificate for IP 127.0.0.1 that it signed. */
interface TestPki {
  caCert: string;
  serverCert: string;
  serverKey: string;
}

/** Makes a CA and a server certificate (subjectAltName IP:127.0.0.1) under `dir`. */
async function makePki(dir: string): Promise<TestPki> {
  const pki: TestPki = {
    caCert: `${dir}/ca.pem`,
    serverCert: `${dir}/server.pem`,
    serverKey: `${dir}/server.key`,
  };
  const caKey = `${dir}/ca.key`;
  const csr = `${dir}/server.csr`;
  const ext = `${dir}/server.ext`;
  // `-nodes` (unencrypted keys) also works with OpenSSL 3's `-noenc` spelling.
  await run("openssl", [
    ...["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2"],
    ...["-keyout", caKey, "-out", pki.caCert, "-subj", "/CN=wimkit test CA"],
    ...["-addext", "basicConstraints=critical,CA:TRUE"],
    ...["-addext", "keyUsage=critical,keyCertSign,cRLSign"],
  ]);
  await run("openssl", [
    ...["req", "-newkey", "rsa:2048", "-nodes", "-keyout", pki.serverKey, "-out", csr],
    ...["-subj", "/CN=127.0.0.1"],
  ]);
  await Deno.writeTextFile(
    ext,
    "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n" +
      "keyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n",
  );
  await run("openssl", [
    ...["x509", "-req", "-in", csr, "-CA", pki.caCert, "-CAkey", caKey, "-CAcreateserial"],
    ...["-days", "2", "-out", pki.serverCert, "-extfile", ext],
  ]);
  return pki;
}

Deno.test({
  name: "https: info and apply read from nginx over TLS when DENO_CERT names the CA",
  ignore,
  async fn() {
    await using tmp = await tempDir();
    const pki = await makePki(tmp.path);
    await Deno.mkdir(`${tmp.path}/src`);
    await makeTree(`${tmp.path}/src`, { seed: 7 });
    await Deno.mkdir(`${tmp.path}/www`);
    const local = `${tmp.path}/www/x.wim`;
    await wimlib("capture", `${tmp.path}/src`, local, "Secure", "--compress=lzx");
    await using server = await startNginx({
      root: `${tmp.path}/www`,
      listenTls: { certificate: pki.serverCert, key: pki.serverKey },
    });
    const url = server.url("x.wim");
    assert.match(url, /^https:\/\/127\.0\.0\.1:\d+\/x\.wim$/);
    const env = { DENO_CERT: pki.caCert };

    const info = await wimkitCli(["info", url], { env });
    assert.equal(info.code, 0, info.stderr);
    const here = await wimkitCli(["info", local]);
    assert.equal(info.stdout.replaceAll(url, local), here.stdout);

    const apply = await wimkitCli(["apply", url, "1", `${tmp.path}/remote`], { env });
    assert.equal(apply.code, 0, apply.stderr);
    {
      await using wim = await Wim.open(local);
      await applyImage(wim, 1, `${tmp.path}/local`);
    }
    assert.deepEqual(await compareTrees(`${tmp.path}/remote`, `${tmp.path}/local`), []);
    const served = (await server.accessLog()).filter((entry) => entry.uri === "/x.wim");
    assert.ok(served.length > 0 && served.every((entry) => entry.status === 206));
  },
});

Deno.test({
  name: "https: without the CA, info fails at once with one line saying how to trust it",
  ignore,
  async fn() {
    await using tmp = await tempDir();
    const pki = await makePki(tmp.path);
    await Deno.mkdir(`${tmp.path}/www`);
    await Deno.writeFile(`${tmp.path}/www/x.wim`, new Uint8Array(4096));
    await using server = await startNginx({
      root: `${tmp.path}/www`,
      listenTls: { certificate: pki.serverCert, key: pki.serverKey },
    });
    const url = server.url("x.wim");
    const started = performance.now();
    for (const args of [["info", url], ["apply", url, "1", `${tmp.path}/out`]]) {
      const result = await wimkitCli(args);
      assert.notEqual(result.code, 0, args.join(" "));
      assert.equal(result.stdout, "");
      const lines = result.stderr.trimEnd().split("\n");
      assert.equal(lines.length, 1, result.stderr);
      assert.match(lines[0]!, /^wimkit: error: .*certificate is not trusted/);
      assert.match(lines[0]!, /DENO_CERT=/);
      assert.ok(lines[0]!.includes(url), lines[0]);
      assert.doesNotMatch(result.stderr, /\n\s+at /);
    }
    // Not retried with backoff (7 attempts would take over 10 s).
    assert.ok(performance.now() - started < 8000, "a rejected certificate is not retried");
    assert.equal((await server.accessLog()).length, 0, "no request got through");

    // capture-to-share's WebDAV client does not retry it either.
    await Deno.mkdir(`${tmp.path}/src`);
    await Deno.writeTextFile(`${tmp.path}/src/a.txt`, "a\n");
    const shareStarted = performance.now();
    const share = await wimkitCli(["capture-to-share", `${tmp.path}/src`, url, "--quiet"]);
    assert.notEqual(share.code, 0);
    const shareLines = share.stderr.trimEnd().split("\n");
    assert.equal(shareLines.length, 1, share.stderr);
    assert.match(shareLines[0]!, /certificate is not trusted.*DENO_CERT=/);
    assert.ok(performance.now() - shareStarted < 8000, "capture-to-share did not retry");

    const missing = `${tmp.path}/no-such-ca.pem`;
    const badCa = await wimkitCli(["info", url], { env: { DENO_CERT: missing } });
    assert.notEqual(badCa.code, 0);
    assert.match(
      badCa.stderr,
      /^wimkit: error: Cannot read ".*": cannot load the CA certificates named by DENO_CERT: .*\n$/,
    );
  },
});
