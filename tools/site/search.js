// The course site's search, tuned for a reader who types an activation's name.
// course_site.py makes this file Sphinx's html_search_scorer: Sphinx writes it into
// language_data.js, which the search page loads after searchtools.js.
//
// 1. Ranking. Sphinx scores a word found in any heading the same (15), so "sigmoid" listed
//    six chapters with a "sigmoid" heading in alphabetical order and the sigmoid chapter
//    sixth. A page whose own title holds every word of the query (as a word: "ReLU" is not
//    "Dead ReLUs") now comes first, the closer the title is to the query the higher ("tanh"
//    finds "tanh and its scaled forms" before "Does tanh(n·x) fix vanishing gradients?").
// 2. Excerpts. Sphinx cuts each result's excerpt from the page's text, code and raw TeX
//    included: the first "sigmoid" of a chapter was in its import list, and formulas showed
//    as "\(\beta\)". Code cells, code blocks and math are taken out before the cut, and the
//    text is the article's (the theme's main element also holds the page's contents list).
//    (The index itself holds prose only: see course_site.py.)
var Scorer = {
  score: (result) => {
    const [, title, anchor, , score] = result;
    const query = (new URLSearchParams(window.location.search).get("q") || "").toLowerCase().trim();
    const words = query.split(/\s+/).filter((word) => word.length > 0);
    const pageTitle = String(title || "").split(" > ")[0].toLowerCase();
    const escaped = (word) => word.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    const inTitle = (word) => new RegExp(`(^|[^a-z0-9])${escaped(word)}($|[^a-z0-9])`).test(pageTitle);
    if (anchor || words.length === 0 || !words.every(inTitle)) {
      return score;
    }
    return score + 100 + Math.round((50 * query.length) / Math.max(pageTitle.length, 1));
  },
  // Sphinx's defaults (searchtools.js) for everything else.
  objNameMatch: 11,
  objPartialMatch: 6,
  objPrio: { 0: 15, 1: 5, 2: -5 },
  objPrioDefault: 0,
  title: 15,
  partialTitle: 7,
  term: 5,
  partialTerm: 2,
};

if (typeof Search !== "undefined" && !Search.courseProseOnly) {
  const notProse = ".headerlink, script, style, .cell_input, .cell_output .output, div.highlight, pre, .math, mjx-container";
  Search.htmlToText = (htmlString, anchor) => {
    const page = new DOMParser().parseFromString(htmlString, "text/html");
    page.querySelectorAll(notProse).forEach((element) => element.remove());
    // The article only: the theme's main element also holds the page's table of contents.
    const article = page.querySelector("article") || page.querySelector('[role="main"]');
    if (!article) {
      return "";
    }
    if (anchor) {
      try {
        const section = article.querySelector(anchor);
        if (section) {
          return section.textContent;
        }
      } catch (error) {
        console.warn("search: no section", anchor, error);
      }
    }
    return article.textContent;
  };
  Search.courseProseOnly = true;
}
