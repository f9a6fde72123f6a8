import { StrictMode } from 'react'
import { createRoot } from 'react-dom/client'
import { ApiClient } from './api/client'
import { App } from './App'
import './index.css'
import { connectWith } from './session'
import { broadcastSessionChannel } from './sessionChannel'

const root = document.getElementById('root')
if (!root) {
  throw new Error('index.html has no #root element')
}

const api = new ApiClient()

createRoot(root).render(
  <StrictMode>
    <App api={api} connect={connectWith(api)} sessionChannel={broadcastSessionChannel()} />
  </StrictMode>,
)
