// Names for assistive technology (aria-label) that the screen does not show as text: Chinese
// first, English available. Applied by applyI18n through data-i18n-aria-label="key".

import { addStrings } from "./i18n.js";

addStrings({
  zh: {
    "a11y.sort": "排序",
    "a11y.heat_slider": "统计截止时间",
  },
  en: {
    "a11y.sort": "Sort",
    "a11y.heat_slider": "End of the time window",
  },
});
