// Rendered by rb2ansible with Jinja2 (the paper used ES6 template strings).
module.exports = {
  name: '{{ person }}',
  host: '{{ inventory_hostname }}'
}
