// Starts Swagger UI on /api/docs/. A file, not an inline script: the site's CSP allows only
// scripts from our own origin. Requests that change data carry the session's CSRF token.
"use strict";
(function () {
  var root = document.getElementById("swagger-ui");
  var csrfToken = root.dataset.csrfToken;
  window.ui = SwaggerUIBundle({
    url: root.dataset.schemaUrl,
    dom_id: "#swagger-ui",
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
    deepLinking: true,
    requestInterceptor: function (request) {
      if (request.method && request.method !== "GET" && request.method !== "HEAD") {
        request.headers["X-CSRFToken"] = csrfToken;
      }
      return request;
    },
  });
})();
