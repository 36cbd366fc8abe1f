// The log form's requester picker: choosing a contact from the as-you-type results fills
// the hidden requester field and the customer. Without JS the new-contact fields still work.
(function () {
  "use strict";
  function form() { return document.getElementById("requester-box"); }
  document.addEventListener("click", function (ev) {
    var box = form();
    if (!box) { return; }
    var option = ev.target.closest(".contact-option");
    if (option && box.contains(option)) {
      box.querySelector("[name=requester]").value = option.dataset.id;
      var customer = document.querySelector("[name=customer]");
      if (customer) { customer.value = option.dataset.customer; }
      var chosen = document.getElementById("requester-chosen");
      chosen.querySelector("[data-chosen-label]").textContent = option.dataset.label;
      chosen.hidden = false;
      document.getElementById("contact-results").innerHTML = "";
      box.querySelector("[name=requester_search]").value = "";
      return;
    }
    if (ev.target.closest("[data-clear-requester]")) {
      box.querySelector("[name=requester]").value = "";
      document.getElementById("requester-chosen").hidden = true;
      box.querySelector("[name=requester_search]").focus();
    }
  });
})();
