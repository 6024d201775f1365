{% load i18n %}/* Medfront lead form: put <div data-medfront-form data-clinic="SLUG"></div> where the form
   goes and include this script. It frames the form and passes this page's UTM tags, ad-click
   ids and analytics cookies along, so the enquiry keeps its first touch. */
(function () {
  "use strict";
  var origin = "{{ request.scheme }}://{{ request.get_host }}";
  var formUrl = origin + "{% url 'crm:lead_form' %}";
  var params = ["utm_source", "utm_medium", "utm_campaign", "utm_content", "utm_term", "yclid"];
  var cookies = {ym_client_id: "_ym_uid", roistat_visit: "roistat_visit", comagic_visitor_id: "_comagic_visitorId", calltouch_session_id: "_ct_session_id"};
  function cookie(name) {
    var match = document.cookie.match(new RegExp("(?:^|; )" + name.replace(/[.$?*|{}()\[\]\\\/+^]/g, "\\$&") + "=([^;]*)"));
    return match ? decodeURIComponent(match[1]) : "";
  }
  function frame(box) {
    var here = new URLSearchParams(window.location.search);
    var query = new URLSearchParams();
    params.forEach(function (key) { if (here.get(key)) { query.set(key, here.get(key)); } });
    Object.keys(cookies).forEach(function (key) { var value = cookie(cookies[key]); if (value) { query.set(key, value); } });
    query.set("landing_url", window.location.href.split("#")[0].slice(0, 500));
    if (box.getAttribute("data-clinic")) { query.set("clinic", box.getAttribute("data-clinic")); }
    var iframe = document.createElement("iframe");
    iframe.src = formUrl + "?" + query.toString();
    iframe.title = "{% translate 'Ask the clinic' %}";
    iframe.style.width = "100%";
    iframe.style.minHeight = "560px";
    iframe.style.border = "0";
    iframe.loading = "lazy";
    box.appendChild(iframe);
  }
  document.querySelectorAll("[data-medfront-form]").forEach(frame);
})();
