/* global document */
// One modal dialog for every action: the browser traps focus in it and Escape cancels it.

/**
 * Asks before an action. Resolves `{ text }` (the reason or comment, trimmed) when confirmed,
 * or `undefined` when cancelled.
 */
export function confirmAction({ title, description, textLabel, maxLength, confirmLabel, danger = false }) {
  const dialog = document.getElementById('confirm-dialog');
  const form = document.getElementById('confirm-form');
  const text = document.getElementById('confirm-text');
  const ok = document.getElementById('confirm-ok');
  const cancel = document.getElementById('confirm-cancel');
  document.getElementById('confirm-title').textContent = title;
  document.getElementById('confirm-description').textContent = description;
  document.getElementById('confirm-label').textContent = textLabel;
  ok.textContent = confirmLabel;
  ok.className = danger ? 'danger' : 'primary';
  text.value = '';
  text.maxLength = maxLength;

  return new Promise((resolve) => {
    const finish = (confirmed) => {
      form.removeEventListener('submit', onSubmit);
      dialog.removeEventListener('close', onClose);
      if (dialog.open) dialog.close();
      resolve(confirmed ? { text: text.value.trim() } : undefined);
    };
    const onSubmit = (event) => {
      event.preventDefault();
      finish(event.submitter === ok);
    };
    const onClose = () => finish(false);
    form.addEventListener('submit', onSubmit);
    dialog.addEventListener('close', onClose);
    dialog.showModal();
    (danger ? cancel : text).focus();
  });
}
