// TokenAdmin's only script (CSP script-src 'self'). Every page works without it; it only makes two things quicker.
(function () {
    'use strict';

    // Fields that only apply to one choice of a select (data-shows="group" on the select, data-show-for="group" and
    // data-when="ValueA ValueB" on the fields) are hidden while another value is chosen. Without the script every
    // field shows and the server ignores those that do not apply (or, on the token config and functional account forms,
    // the server renders the chosen value's fields and a "Show the fields" button re-renders them after a change).
    document.querySelectorAll('select[data-shows]').forEach(function (select) {
        var group = select.getAttribute('data-shows');
        function update() {
            document.querySelectorAll('[data-show-for="' + group + '"]').forEach(function (field) {
                var shown = field.getAttribute('data-when').split(' ').indexOf(select.value) >= 0;
                // A field with an error stays visible: its message must be seen.
                field.hidden = !shown && !field.querySelector('[aria-invalid="true"]');
            });
        }
        select.addEventListener('change', update);
        update();
        // The "Show the fields" button re-renders the form for the chosen value without the script; here it is live.
        document.querySelectorAll('button[data-apply="' + group + '"]').forEach(function (button) {
            button.hidden = true;
        });
    });

    // Long actions (a form with data-busy="Testing the connection ..."): while the answer is awaited the button is
    // disabled, so a second click cannot start the action twice, and the text is shown in the form's status line.
    // Without the script the form posts all the same and the answer page shows the outcome.
    document.querySelectorAll('form[data-busy]').forEach(function (form) {
        form.addEventListener('submit', function () {
            var button = form.querySelector('button[type="submit"]');
            var status = form.querySelector('.busy-status');
            if (status) {
                status.textContent = form.getAttribute('data-busy');
            }
            if (button) {
                // Note: after this event the browser has already taken the form data; disabling now does not stop the post.
                window.setTimeout(function () { button.disabled = true; }, 0);
            }
        });
    });

    // Copy buttons (data-copy="id of a field"): rendered hidden, shown only where the script runs; without it the
    // read-only field is selected and copied by hand.
    document.querySelectorAll('button[data-copy]').forEach(function (button) {
        var target = document.getElementById(button.getAttribute('data-copy'));
        if (!target || !navigator.clipboard) {
            return;
        }
        button.hidden = false;
        button.addEventListener('click', function () {
            navigator.clipboard.writeText(target.value || target.textContent).then(function () {
                var status = document.getElementById(button.getAttribute('data-copy') + '-copied');
                if (status) {
                    status.textContent = 'Copied.';
                }
            });
        });
    });
})();
