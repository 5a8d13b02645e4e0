// The device sign-in page's copy buttons (CSP script-src 'self'). Without the script the buttons stay hidden and the
// code and address can be selected and copied by hand.
(function () {
    'use strict';
    document.querySelectorAll('button[data-copy]').forEach(function (button) {
        var source = document.getElementById(button.getAttribute('data-copy'));
        var status = document.querySelector('.copy-status');
        if (!source || !navigator.clipboard) {
            return;
        }

        button.hidden = false;
        button.addEventListener('click', function () {
            navigator.clipboard.writeText(source.textContent.trim()).then(function () {
                if (status) {
                    status.textContent = 'Copied: ' + source.textContent.trim();
                }
            }, function () {
                if (status) {
                    status.textContent = 'Copying is not allowed here; select the text and copy it by hand.';
                }
            });
        });
    });
}());
