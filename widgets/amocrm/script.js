// Switchboard click-to-call for amoCRM (CORE-12).
// A click on a phone number in amoCRM asks Switchboard to start the call: the PBX rings the employee mapped
// to the current amoCRM user first, then the client. The address and key come from the widget's settings;
// the cabinet shows both (GET /api/v1/integrations/{id}/amocrm/widget).
define(['jquery'], function ($) {
  return function () {
    var self = this;

    function settings() {
      var s = self.get_settings() || {};
      return { url: (s.switchboard_url || '').replace(/\/+$/, ''), key: s.widget_key || '' };
    }

    function notify(text, error) {
      if (window.APP && APP.notifications && APP.notifications.show_message) {
        APP.notifications.show_message({ header: 'Switchboard', text: text, date: Math.floor(Date.now() / 1000) });
      } else if (error && window.console) {
        console.error('Switchboard: ' + text);
      }
    }

    function call(phone) {
      var s = settings();
      if (!s.url || !s.key) {
        notify(self.i18n('messages').not_configured, true);
        return;
      }
      var user = (window.AMOCRM && AMOCRM.constant('user')) || {};
      $.ajax({
        url: s.url,
        type: 'POST',
        contentType: 'application/json',
        data: JSON.stringify({ phone: String(phone), amo_user_id: Number(user.id), key: s.key }),
        success: function () { notify(self.i18n('messages').calling + ' ' + phone); },
        error: function (xhr) {
          var reason = (xhr.responseJSON && xhr.responseJSON.error && xhr.responseJSON.error.message) || xhr.statusText;
          notify(self.i18n('messages').failed + ': ' + reason, true);
        }
      });
    }

    this.callbacks = {
      init: function () {
        // amoCRM calls this handler for every click on a phone number in the locations of manifest.json.
        self.add_action('phone', function (data) { call(data.value); });
        return true;
      },
      render: function () { return true; },
      bind_actions: function () { return true; },
      settings: function () { return true; },
      onSave: function () { return true; },
      destroy: function () {}
    };
    return this;
  };
});
