import { StrictMode } from 'react'
import { createRoot } from 'react-dom/client'
import { ApiClient } from './api/client'
import { App } from './App'
import { desktopClient, isDesktopApp } from './desktop/desktop'
import { DesktopGate } from './desktop/DesktopGate'
import { startFocusReporter } from './desktop/focusReporter'
import './index.css'
import { connectWith } from './session'
import { broadcastSessionChannel } from './sessionChannel'
import { registerServiceWorker } from './sw/register'

const root = document.getElementById('root')
if (!root) {
  throw new Error('index.html has no #root element')
}

const api = new ApiClient()

// The offline shell: a reload without network shows Herald with the last viewed chats.
registerServiceWorker({ desktop: isDesktopApp() })

// In the desktop app: the app raises native notifications only while its window is not focused.
// The reporter starts once the first screen is up (DesktopGate's onShown).
let focusReporting = false
function startFocusReporting() {
  if (focusReporting || !isDesktopApp()) return
  focusReporting = true
  startFocusReporter({ report: (focused) => desktopClient.focus(focused) })
}

createRoot(root).render(
  <StrictMode>
    {/* In the desktop app, the first-run choice (host or join a team) comes before the web client. */}
    <DesktopGate client={desktopClient} onShown={startFocusReporting}>
      <App api={api} connect={connectWith(api)} sessionChannel={broadcastSessionChannel()} />
    </DesktopGate>
  </StrictMode>,
)
