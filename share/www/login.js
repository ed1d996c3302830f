// login.js: POST /api/login, then the dashboard.
'use strict';
document.getElementById('login').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const f = ev.target, err = document.getElementById('error');
  err.textContent = '';
  const r = await fetch('/api/login', {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, credentials: 'same-origin',
    body: JSON.stringify({ username: f.username.value, password: f.password.value, remember: f.remember.checked })
  });
  if (r.ok) { location.href = '/'; return; }
  let msg = 'Login failed';
  try { msg = (await r.json()).error || msg; } catch (e) { /* not JSON */ }
  err.textContent = msg;
});
