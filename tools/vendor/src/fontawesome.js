// The theme's icons, and only those. pydata-sphinx-theme serves Font Awesome's whole
// all.min.js (about 2,000 icons, 1.5 MB) as _static/scripts/fontawesome.js on every page;
// copy_assets.py bundles this file with esbuild into a file of the same name that
// _config.yml's html_static_path puts in its place. It works the same way: the
// <i class="fa-solid fa-bars"> elements the theme writes are replaced by inline SVG, also
// when scripts add them later (the theme's search dialog, its close buttons).
// An icon missing here stays an empty <i>: the browser test looks for any left on a page.
import { dom, library } from "@fortawesome/fontawesome-svg-core";
import { faGithub } from "@fortawesome/free-brands-svg-icons";
import {
  faAngleLeft,
  faAngleRight,
  faArrowUp,
  faBars,
  faCircleHalfStroke,
  faCode,
  faCompress,
  faDownload,
  faExpand,
  faFile,
  faFileLines,
  faFilePdf,
  faHouse,
  faLightbulb,
  faList,
  faMagnifyingGlass,
  faMoon,
  faOutdent,
  faPencil,
  faPlay,
  faRocket,
  faSun,
  faXmark,
} from "@fortawesome/free-solid-svg-icons";

library.add(
  faAngleLeft,
  faAngleRight,
  faArrowUp,
  faBars,
  faCircleHalfStroke,
  faCode,
  faCompress,
  faDownload,
  faExpand,
  faFile,
  faFileLines,
  faFilePdf,
  faGithub,
  faHouse,
  faLightbulb,
  faList,
  faMagnifyingGlass,
  faMoon,
  faOutdent,
  faPencil,
  faPlay,
  faRocket,
  faSun,
  faXmark,
);
dom.watch();
