/** A tiny history router: the node serves index.html for each client-side route. */
import { useEffect, useState } from 'preact/hooks'
import type { ComponentChildren, JSX } from 'preact'

const listeners = new Set<() => void>()

export function navigate (to: string): void {
  if (to === location.pathname) return
  history.pushState(null, '', to)
  for (const l of listeners) l()
  window.scrollTo(0, 0)
}

export function usePath (): string {
  const [path, setPath] = useState(location.pathname)
  useEffect(() => {
    const l = (): void => { setPath(location.pathname) }
    listeners.add(l)
    window.addEventListener('popstate', l)
    return () => { listeners.delete(l); window.removeEventListener('popstate', l) }
  }, [])
  return path
}

export function Link (props: { href: string, children: ComponentChildren, class?: string, 'aria-current'?: 'page' | undefined, 'aria-label'?: string }): JSX.Element {
  const onClick = (e: MouseEvent): void => {
    if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return
    e.preventDefault()
    navigate(props.href)
  }
  return <a {...props} onClick={onClick}>{props.children}</a>
}
