/** Pure checks of what a broadcaster sends: usernames, passwords, channels. */
import { CHANNEL_NAME_PATTERN, MAX_AVATAR_URL_LENGTH, MAX_CHANNEL_TITLE_LENGTH, MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH, USERNAME_PATTERN } from './constants.js'

/** Passwords too common to take whatever their length (the top of the breached-password lists that reach 10 characters). */
const COMMON_PASSWORDS = new Set([
  '1234567890', '0123456789', '0987654321', '1111111111', 'qwertyuiop', 'password12', 'password123', 'password1234',
  'iloveyou12', 'qwerty1234', 'qwerty12345', '1q2w3e4r5t', '1qaz2wsx3edc', 'asdfghjkl1', 'letmein123', 'welcome123',
  'administrator', 'passw0rd12', 'abcdefghij', 'abc1234567', 'zxcvbnm123', 'changeme123', 'football123', 'baseball123'
])

/** Why a username is refused, or undefined when it is fine. */
export function usernameProblem (username: string): string | undefined {
  if (!USERNAME_PATTERN.test(username)) return 'username must be 3..32 lowercase letters, digits, _ or -, starting with a letter or digit'
  return undefined
}

/** Why a password is too weak, or undefined when it is taken. */
export function passwordProblem (password: string, username: string): string | undefined {
  if (!password.isWellFormed()) return 'password must be well-formed Unicode'
  const length = [...password].length
  if (length < MIN_PASSWORD_LENGTH) return `password must have at least ${MIN_PASSWORD_LENGTH} characters`
  if (length > MAX_PASSWORD_LENGTH) return `password must have at most ${MAX_PASSWORD_LENGTH} characters`
  if (new Set(password).size < 4) return 'password is too weak: too few different characters'
  const lower = password.toLowerCase()
  if (COMMON_PASSWORDS.has(lower)) return 'password is too weak: it is one of the most common passwords'
  if (lower.includes(username.toLowerCase())) return 'password must not contain the username'
  return undefined
}

/** Whether `s` holds a C0 control character or DEL (a title is one line of text). */
const hasControlCharacter = (s: string): boolean => [...s].some(ch => { const c = ch.codePointAt(0)!; return c < 0x20 || c === 0x7f })

export interface ChannelInput { name: string, title: string, avatarUrl?: string }

/** Why a channel is refused, or undefined. The avatar must be an absolute http(s) URL (it is shown to viewers). */
export function channelProblem (c: ChannelInput): string | undefined {
  if (!CHANNEL_NAME_PATTERN.test(c.name)) return 'name must be 3..32 lowercase letters, digits, _ or -, starting with a letter or digit'
  if (!c.title.isWellFormed() || [...c.title].length > MAX_CHANNEL_TITLE_LENGTH || hasControlCharacter(c.title)) return `title must be at most ${MAX_CHANNEL_TITLE_LENGTH} characters of well-formed text without control characters`
  if (c.avatarUrl != null && c.avatarUrl !== '') {
    if (c.avatarUrl.length > MAX_AVATAR_URL_LENGTH) return `avatarUrl must be at most ${MAX_AVATAR_URL_LENGTH} characters`
    let u: URL
    try { u = new URL(c.avatarUrl) } catch { return 'avatarUrl must be an absolute URL' }
    if (u.protocol !== 'https:' && u.protocol !== 'http:') return 'avatarUrl must be an http or https URL'
    if (u.username !== '' || u.password !== '') return 'avatarUrl must not carry credentials'
  }
  return undefined
}
