// Validate glTF/GLB files with the Khronos glTF-Validator (npm: gltf-validator).
// Usage: node scripts/validate_gltf.mjs FILE... ; prints one JSON report per line.
import { readFile } from "node:fs/promises";
import path from "node:path";
import validator from "gltf-validator";

for (const file of process.argv.slice(2)) {
  const data = new Uint8Array(await readFile(file));
  const dir = path.dirname(file);
  const report = await validator.validateBytes(data, {
    uri: path.basename(file),
    maxIssues: 200,
    externalResourceFunction: async (uri) =>
      new Uint8Array(await readFile(path.join(dir, decodeURIComponent(uri)))),
  });
  process.stdout.write(JSON.stringify({ file, issues: report.issues, info: report.info }) + "\n");
}
