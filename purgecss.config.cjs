// `make css` trims Bootstrap to the rules AidHub's pages use: static/css/site.css, inlined in
// every page by templates/base.html (docs/performance.md says why). Content is every place a
// class name can come from: our templates and scripts, and crispy-forms' templates and code.
module.exports = {
  content: [
    "templates/**/*.html",
    "static/js/**/*.js",
    "{aidhub,api,deliveries,donations,hubs,ledger,notifications}/**/*.py",
    // What `|crispy` and `|as_crispy_field` render (no FormHelper layouts here: not the
    // accordions, modals and tabs of crispy's other templates).
    ".venv/lib/python3*/site-packages/crispy_forms/templatetags/*.py",
    ".venv/lib/python3*/site-packages/crispy_bootstrap5/templates/bootstrap5/{uni_form,errors,field,multifield}.html",
    ".venv/lib/python3*/site-packages/crispy_bootstrap5/templates/bootstrap5/layout/{attrs,field_errors,field_errors_block,field_file,help_text,help_text_and_errors,radio_checkbox_select}.html",
  ],
  // Names put together at run time: base.html's messages ("alert-" + the message's level) and
  // offline-report.js's notices ("alert alert-" + kind).
  safelist: { standard: [/^alert-(info|success|warning|danger)$/] },
  variables: true,
  keyframes: true,
  fontFace: true,
};
