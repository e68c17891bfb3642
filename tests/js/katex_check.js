// Read a JSON list of {"tex": "...", "display": true|false} on stdin and render
// each with KaTeX, throwOnError on.  Print a JSON list of the failures.
const katex = require("katex");
let input = "";
process.stdin.on("data", (chunk) => (input += chunk));
process.stdin.on("end", () => {
  const failures = [];
  for (const span of JSON.parse(input)) {
    try {
      katex.renderToString(span.tex, { throwOnError: true, displayMode: span.display, strict: "error" });
    } catch (e) {
      failures.push({ tex: span.tex, error: String(e.message || e) });
    }
  }
  process.stdout.write(JSON.stringify(failures));
});
