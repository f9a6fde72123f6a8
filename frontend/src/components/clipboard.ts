/**
 * Puts text on the clipboard. The Clipboard API needs a secure context (HTTPS or localhost); a
 * team server on a LAN address is plain HTTP, where the old copy command still works on a
 * selected field: fallbackInput (shown to the user) or, without one, a hidden one made for it.
 * Reports whether either did.
 */
export async function copyText(text: string, fallbackInput?: HTMLInputElement | null): Promise<boolean> {
  if (window.isSecureContext && 'clipboard' in navigator) {
    try {
      await navigator.clipboard.writeText(text)
      return true
    } catch {
      // Denied (e.g. the document lost focus): try the fallback.
    }
  }
  if (fallbackInput) {
    fallbackInput.select()
    return execCopy()
  }
  const focused = document.activeElement
  const field = document.createElement('textarea')
  field.value = text
  field.setAttribute('readonly', '')
  field.className = 'visually-hidden'
  document.body.append(field)
  field.select()
  const copied = execCopy()
  field.remove()
  if (focused instanceof HTMLElement) focused.focus()
  return copied
}

function execCopy(): boolean {
  // jsdom and some browsers have no execCommand at all.
  if (typeof document.execCommand !== 'function') return false
  try {
    return document.execCommand('copy')
  } catch {
    return false
  }
}
