// clientes.js - optional conveniences of the browser pages; every page works
// without it. Loaded with defer from /static/ (CSP script-src 'self'); it
// only reads the page's own markup and never inserts HTML.
'use strict';
(function () {
  // A form's error summary takes the focus, so a screen reader announces it.
  var resumen = document.querySelector('.resumen-errores');
  if (resumen) resumen.focus();

  // "Copiar" next to a token shown once (hidden without JavaScript).
  document.querySelectorAll('button[data-copiar]').forEach(function (b) {
    var origen = document.getElementById(b.getAttribute('data-copiar'));
    if (!origen || !navigator.clipboard) return;
    b.hidden = false;
    b.addEventListener('click', function () {
      navigator.clipboard.writeText(origen.textContent.trim()).then(function () {
        b.textContent = 'Copiado';
      }, function () {
        b.textContent = 'No se pudo copiar';
      });
    });
  });
})();
