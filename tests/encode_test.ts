import assert from "node:assert/strict";
import { psql, runCli, scratchTable, sql } from "./_helpers.ts";

const TRICKY_FILES: Record<string, string> = {
  "crlf, quotes and line breaks": "\uFEFFid,body,note\r\n" +
    '1,"comma, inside","say ""hi"""\r\n' +
    '2,"two\r\nlines",\r\n' +
    '3,"",""\r\n' +
    "4,back\\slash\tand tab,中文 🚀 é\r\n" +
    '5,"\\.",\\.\r\n' +
    '6,"\\N",\\N\r\n',
  "lf, no final newline": 'id,body,note\n7,"a\nb",\n8,,""\n9,"x""y",z',
};

for (const [name, csv] of Object.entries(TRICKY_FILES)) {
  for (const format of ["text", "csv"] as const) {
    Deno.test(`encode --copy-format ${format} output loads back with psql \\copy as the source records (${name})`, async () => {
      const path = await Deno.makeTempFile({ suffix: ".csv" });
      await Deno.writeTextFile(path, csv);
      const reference = scratchTable("enc_ref");
      const loaded = scratchTable("enc_out");
      await sql(`create table ${reference} (id int, body text, note text)`);
      await sql(`create table ${loaded} (id int, body text, note text)`);
      const viaPsql = await psql([
        "-c",
        `\\copy ${reference} from '${path}' (format csv, header)`,
      ]);
      assert.equal(viaPsql.code, 0, viaPsql.stderr);

      const encoded = await runCli(["encode", path, "--copy-format", format]);
      assert.equal(encoded.code, 0, encoded.stderr);
      const options = format === "csv" ? "(format csv)" : "";
      const viaEncode = await psql(
        ["-c", `\\copy ${loaded} from stdin ${options}`],
        new TextEncoder().encode(encoded.stdout),
      );
      assert.equal(viaEncode.code, 0, viaEncode.stderr);

      const [diff] = await sql(
        `select (select count(*) from (table ${reference} except all table ${loaded}) a)::int as missing,
                (select count(*) from (table ${loaded} except all table ${reference}) b)::int as extra,
                (select count(*) from ${loaded})::int as n`,
      );
      assert.deepEqual(diff, {
        missing: 0,
        extra: 0,
        n: csv.includes("9,") ? 3 : 6,
      });
      await Deno.remove(path);
    });
  }
}

Deno.test("encode prints only COPY rows on stdout, one per record", async () => {
  const result = await runCli(["encode", "-"], {
    stdin: 'a,b\n1,"x\ty"\n2,\n',
  });
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stdout, "1\tx\\ty\n2\t\\N\n");
  assert.equal(result.stderr, "");
});

Deno.test("encode writes the good rows, then fails at a malformed record with exit 2", async () => {
  const result = await runCli(["encode", "-"], {
    stdin: 'a,b\n1,x\n2,"open\n',
  });
  assert.equal(result.code, 2);
  assert.equal(result.stdout, "1\tx\n");
  assert.match(
    result.stderr,
    /<stdin>:3:3: Cannot parse record: quoted field is not closed/,
  );
});

Deno.test("encode honours --delimiter, --null and --no-header", async () => {
  const result = await runCli(
    ["encode", "-", "--delimiter", "tab", "--null", "NA", "--no-header"],
    { stdin: 'NA\t\t"NA"\n' },
  );
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stdout, "\\N\t\tNA\n");
});
