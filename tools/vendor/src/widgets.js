// The course site's widget manager: renders the widgets a page embeds (their state was saved
// when the chapter ran) with the real ipywidgets 8 views, and nothing else. Bundled by
// tools/vendor/copy_assets.py with esbuild into _vendor/vendor/widgets/widgets.{js,css}, which
// myst-nb adds only to pages that hold widget state (nb_ipywidgets_js in _config.yml).
//
// Why not @jupyter-widgets/html-manager's embed-amd.js (3.6 MB): it also bundles an Output
// widget with JupyterLab's whole rendermime (markdown, LaTeX, HTML sanitizers), a JSON-schema
// validator, the ipywidgets 7 controls and Font Awesome. The book's widgets are built-in
// controls and boxes only (HTML, Stack, ToggleButtons, SelectionSlider, Dropdown, boxes, jslink):
// anything else fails loudly in the console, which the browser test reports.
import "@lumino/widgets/style/index.css";
import "@jupyter-widgets/controls/css/labvariables.css";
import "@jupyter-widgets/controls/css/widgets-base.css";

import * as base from "@jupyter-widgets/base";
import { ManagerBase } from "@jupyter-widgets/base-manager";
import * as controls from "@jupyter-widgets/controls";
import { Widget } from "@lumino/widgets";

const MODULES = {
  "@jupyter-widgets/base": base,
  "@jupyter-widgets/controls": controls,
};

class StaticManager extends ManagerBase {
  async loadClass(className, moduleName, moduleVersion) {
    const module = MODULES[moduleName];
    if (module === undefined || module[className] === undefined) {
      throw new Error(`the course's widget manager has no ${className} from ${moduleName}@${moduleVersion}`);
    }
    return module[className];
  }

  async display_view(view, element) {
    Widget.attach((await view).luminoWidget, element);
  }

  // No kernel behind a static page: comms go nowhere.
  _get_comm_info() {
    return Promise.resolve({});
  }

  _create_comm() {
    return Promise.resolve({ on_close() {}, on_msg() {}, close() {}, send() {} });
  }
}

// The controls typeset their labels with the MathJax 2 API (MathJax.Hub.Queue); the site runs
// MathJax 3, which has no Hub. Give it one that does the same with MathJax 3's own API.
function shimMathJaxHub() {
  const mathjax = window.MathJax;
  if (mathjax === undefined || mathjax.Hub !== undefined) {
    return;
  }
  mathjax.Hub = {
    Queue(command) {
      const element = command[2];
      if (!element || !mathjax.startup) {
        return;
      }
      mathjax.startup.promise
        .then(() => mathjax.typesetPromise([element]))
        .catch((error) => console.warn("MathJax could not typeset a widget label:", error));
    },
  };
}

// A slider's handle (role="slider", the element that takes the keyboard) gets no name from
// the controls: name it after its widget's label, as the widget shows it.
let labels = 0;
function nameSliderHandles() {
  for (const handle of document.querySelectorAll(".widget-slider .noUi-handle:not([aria-labelledby])")) {
    const label = handle.closest(".widget-slider").querySelector(":scope > .widget-label");
    if (!label || !label.textContent.trim()) {
      continue; // no description: nothing to name it by (the browser test reports it)
    }
    if (!label.id) {
      labels += 1;
      label.id = `widget-slider-label-${labels}`;
    }
    handle.setAttribute("aria-labelledby", label.id);
  }
}

async function render() {
  shimMathJaxHub();
  new MutationObserver(nameSliderHandles).observe(document.documentElement, { childList: true, subtree: true });
  const states = document.querySelectorAll('script[type="application/vnd.jupyter.widget-state+json"]');
  for (const tag of states) {
    const manager = new StaticManager();
    const models = await manager.set_state(JSON.parse(tag.textContent));
    const views = document.querySelectorAll('script[type="application/vnd.jupyter.widget-view+json"]');
    await Promise.all(
      Array.from(views).map(async (viewTag) => {
        const { model_id } = JSON.parse(viewTag.textContent);
        const model = models.find((m) => m.model_id === model_id);
        if (model === undefined || viewTag.parentElement === null) {
          return;
        }
        const area = document.createElement("div");
        area.className = "widget-subarea";
        viewTag.parentElement.insertBefore(area, viewTag);
        await manager.display_view(manager.create_view(model), area);
      }),
    );
  }
}

// The stylesheet esbuild writes beside this file.
const stylesheet = document.createElement("link");
stylesheet.rel = "stylesheet";
stylesheet.href = new URL("widgets.css", document.currentScript.src).href;
document.head.appendChild(stylesheet);

if (document.readyState === "loading") {
  window.addEventListener("DOMContentLoaded", render);
} else {
  render();
}
