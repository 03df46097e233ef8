// Submits the OAuth form_post response as soon as the page loads (the button is the fallback).
document.getElementById("form-post").submit();
