// Stands in for the npm package sanitize-html in the widget bundle (esbuild --alias; see
// copy_assets.py). @jupyter-widgets/base-manager uses it only to clean a description written
// with description_allow_html, which no widget in the book uses; the real package pulls in a
// CSS parser and an HTML parser (about 240 kB). Instead of trusting such HTML, this stub
// shows it as text.
export default function sanitize(html) {
  const text = document.createElement("span");
  text.textContent = String(html);
  return text.innerHTML;
}
