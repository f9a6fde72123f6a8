import { describe, expect, it, vi } from 'vitest'
import { broadcastSessionChannel, SESSION_CHANNEL_NAME, type SessionChannelPort } from './sessionChannel'

/** BroadcastChannels of one origin: a message reaches every other port of its name, at once. */
function origin() {
  const ports: { name: string; port: SessionChannelPort }[] = []
  return (name: string): SessionChannelPort => {
    const port: SessionChannelPort = {
      onmessage: null,
      postMessage(message) {
        for (const other of ports) {
          if (other.port !== port && other.name === name) {
            other.port.onmessage?.(new MessageEvent('message', { data: message }))
          }
        }
      },
    }
    ports.push({ name, port })
    return port
  }
}

describe('broadcastSessionChannel', () => {
  it('tells the other tabs, not this one, and stops telling a listener that unsubscribed', () => {
    const open = vi.fn(origin())
    const a = broadcastSessionChannel(open)
    const b = broadcastSessionChannel(open)
    const heardByA = vi.fn()
    const heardByB = vi.fn()
    a.subscribe(heardByA)
    const unsubscribe = b.subscribe(heardByB)

    a.announce()
    expect(heardByB).toHaveBeenCalledOnce()
    expect(heardByA).not.toHaveBeenCalled()
    expect(open).toHaveBeenCalledWith(SESSION_CHANNEL_NAME)

    unsubscribe()
    a.announce()
    expect(heardByB).toHaveBeenCalledOnce()
  })

  it('announces to nobody where the browser has no BroadcastChannel', () => {
    const channel = broadcastSessionChannel(() => null)
    const heard = vi.fn()
    channel.subscribe(heard)

    expect(() => channel.announce()).not.toThrow()
    expect(heard).not.toHaveBeenCalled()
  })
})
