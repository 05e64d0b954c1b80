// The login page: says so when the last attempt failed (the server redirects with ?failed=1, never the token).
if (new URLSearchParams(location.search).has('failed')) document.getElementById('failed').hidden = false;
