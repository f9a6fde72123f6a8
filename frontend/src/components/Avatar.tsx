/**
 * Whether an avatar is shown as an image: only an absolute https URL with a host and no user
 * name. The server accepts nothing else as a URL (backend.CheckAvatar); this check keeps an
 * avatar stored before that rule, or sent by another server, from becoming a javascript:, data:
 * or relative image source.
 */
export function isImageAvatar(avatar: string): boolean {
  if (!avatar.startsWith('https://')) return false
  try {
    const url = new URL(avatar)
    return url.protocol === 'https:' && url.hostname !== '' && url.username === '' && url.password === ''
  } catch {
    return false
  }
}

/** A bot's avatar: an image for an https URL, else its text (an emoji); nothing when absent. */
export function Avatar({ avatar }: { avatar: string | undefined }) {
  if (!avatar) return null
  if (isImageAvatar(avatar)) {
    return (
      <img className="avatar" src={avatar} alt="" width={18} height={18} referrerPolicy="no-referrer" />
    )
  }
  return (
    <span className="avatar" aria-hidden="true" dir="auto">
      {avatar}
    </span>
  )
}
